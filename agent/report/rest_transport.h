#pragma once
// The agent's seam to its two HTTP peers (placement, bwfloor-server): one JSON request, one
// response. HttpRestTransport is the real one; tests substitute an in-process placement
// (PlacementApi::handle) and a recording fake server, and inject failures there.

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/client.h"
#include "http/message.h"

namespace bwfloor::agent {

class RestTransport {
 public:
  virtual ~RestTransport() = default;
  // METHOD <base path>+path (path may carry a query). body, when not empty, is JSON. Transport
  // failures (connect, timeout) are ErrorCode::kUnavailable; any HTTP status is a value.
  virtual Result<http::Response> send(const std::string& method, const std::string& path,
                                      const std::string& body) = 0;
};

// Over http::HttpClient: X-Auth-Token, Accept / Content-Type JSON, and an optional
// OpenStack-API-Version header ("placement 1.37").
class HttpRestTransport : public RestTransport {
 public:
  // `endpoints`: one service's replicas, tried in turn when one cannot be reached.
  HttpRestTransport(std::vector<http::Url> endpoints, std::string token,
                    std::string apiVersionHeader, std::chrono::milliseconds timeout,
                    http::ClientTls tls = {});
  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body) override;

 private:
  http::FailoverClient client_;
  std::string token_;
  std::string apiVersion_;
};

}  // namespace bwfloor::agent
