#pragma once
// CORS as oslo.middleware's CORS filter (oslo_middleware/cors.py) answers it, for the services
// that put it in their pipeline (Placement: only when [cors] allowed_origin is set, outside the
// auth middleware, so a preflight needs no token and a 401 is decorated too).
//
//   preflight  every OPTIONS request is answered here: 200, no body and no content type (oslo
//              replaces the application's non-2xx answer, and Placement has no OPTIONS route).
//              The CORS headers are added only when the Origin is allowed (or "*" is), the
//              Access-Control-Request-Method is in allow_methods (case-sensitive) and every
//              Access-Control-Request-Headers entry is in allow_headers or the simple headers
//              (case-insensitive); otherwise the 200 carries none, and the browser refuses.
//   simple     any other request from an allowed Origin: Vary gets Origin, then
//              Access-Control-Allow-Origin, -Allow-Credentials, -Expose-Headers. A response that
//              already has Access-Control-Allow-Origin is left as is.

#include <string>
#include <vector>

#include "http/message.h"

namespace bwfloor::http {

struct CorsOptions {
  std::vector<std::string> allowedOrigins;  // [cors] allowed_origin; empty: CORS is off
  bool allowCredentials = true;             // [cors] allow_credentials
  std::vector<std::string> exposeHeaders;   // [cors] expose_headers
  int maxAgeSeconds = 3600;                 // [cors] max_age (0: no Access-Control-Max-Age)
  std::vector<std::string> allowMethods = {"OPTIONS", "GET",    "HEAD",  "POST",
                                           "PUT",     "DELETE", "TRACE", "PATCH"};
  std::vector<std::string> allowHeaders;  // [cors] allow_headers

  bool enabled() const { return !allowedOrigins.empty(); }
};

class Cors {
 public:
  explicit Cors(CorsOptions options) : options_(std::move(options)) {}
  bool enabled() const { return options_.enabled(); }
  // The answer to an OPTIONS request.
  Response preflight(const Request& req) const;
  // Adds the headers of a simple (actual) request's answer.
  void decorate(const Request& req, Response& resp) const;

 private:
  // The configured origin that admits `origin` (itself, or "*"), or nullptr.
  const std::string* allowedOrigin(const std::string& origin) const;

  CorsOptions options_;
};

}  // namespace bwfloor::http
