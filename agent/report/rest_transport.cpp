#include "agent/report/rest_transport.h"

namespace bwfloor::agent {

HttpRestTransport::HttpRestTransport(std::vector<http::Url> endpoints, std::string token,
                                     std::string apiVersionHeader,
                                     std::chrono::milliseconds timeout, http::ClientTls tls)
    : client_(std::move(endpoints), timeout, std::move(tls)),
      token_(std::move(token)),
      apiVersion_(std::move(apiVersionHeader)) {}

Result<http::Response> HttpRestTransport::send(const std::string& method, const std::string& path,
                                               const std::string& body) {
  http::Headers headers;
  if (!token_.empty()) headers.add("X-Auth-Token", token_);
  headers.add("Accept", "application/json");
  if (!apiVersion_.empty()) headers.add("OpenStack-API-Version", apiVersion_);
  if (!body.empty()) headers.add("Content-Type", "application/json");
  return client_.send(method, path, headers, body);
}

}  // namespace bwfloor::agent
