#pragma once
// Plain HTTP request/response values shared by the server, the client and the handlers, so that
// handler code never sees Boost.Beast types (and compiles without its headers).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bwfloor::http {

// Header list with case-insensitive lookup; keeps order and duplicates as received.
class Headers {
 public:
  void add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every header of that name.
  void set(std::string_view name, std::string value);
  // First value of the header, or nullptr.
  const std::string* find(std::string_view name) const;
  // Every value of the header, in order.
  std::vector<std::string> findAll(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // as sent: "/placement/resource_providers?name=x"
  std::string path;    // percent-decoded path without the query
  std::string query;   // raw query string, without '?'
  Headers headers;
  std::string body;
  std::string peer;             // "127.0.0.1:53412"
  std::string scheme = "http";  // "https" on a TLS connection (for absolute URLs)
  // "req-<uuid4>", minted by the server for each request: in the answer's error bodies and
  // x-openstack-request-id, and in every log line the handler writes (core/logging.h).
  std::string requestId;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
};

bool iequals(std::string_view a, std::string_view b);
// "%2F" -> "/", '+' kept as is (paths); returns false on a malformed escape.
bool percentDecode(std::string_view in, std::string& out, bool plusIsSpace = false);
// RFC 3986: everything but unreserved characters as %XX (for a path segment or a query value).
std::string percentEncode(std::string_view in);
// Splits a query string into decoded (key, value) pairs, in order; false on a malformed escape.
bool parseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>& out);
const char* reasonPhrase(int status);

// What server and agent answer on /healthcheck, as oslo.middleware's healthcheck does: 200 "OK"
// (204 to HEAD), or 503 with the problem.
Response healthcheckResponse(std::string_view method, const std::optional<std::string>& problem);
// A Prometheus text-format exposition (version 0.0.4) as the answer to GET /metrics.
Response prometheusResponse(std::string body);

}  // namespace bwfloor::http
