#include "cli/api_client.h"

namespace bwfloor::cli {

ApiClient::ApiClient(std::vector<http::Url> endpoints, std::string token, http::ClientTls tls)
    : http_(std::move(endpoints), std::chrono::seconds(120), std::move(tls)),
      token_(std::move(token)) {}

Result<nlohmann::json, ApiFailure> ApiClient::call(const std::string& method,
                                                   const std::string& path,
                                                   const nlohmann::json& body,
                                                   const std::string& placementVersion) {
  http::Headers headers;
  headers.add("X-Auth-Token", token_);
  headers.add("Accept", "application/json");
  if (!placementVersion.empty()) {
    headers.add("OpenStack-API-Version", "placement " + placementVersion);
  }
  std::string payload;
  if (!body.is_null()) {
    headers.add("Content-Type", "application/json");
    payload = body.dump();
  }
  auto resp = http_.send(method, path, headers, payload);
  if (!resp) return ApiFailure{0, "server unreachable: " + resp.error().message()};
  nlohmann::json doc = resp->body.empty() ? nlohmann::json(nullptr)
                                          : nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status >= 400) {
    std::string detail = resp->body;
    if (!doc.is_discarded() && doc.contains("errors") && !doc["errors"].empty()) {
      detail = doc["errors"][0].value("detail", resp->body);
    }
    return ApiFailure{resp->status, detail};
  }
  if (doc.is_discarded()) return ApiFailure{resp->status, "unreadable answer: " + resp->body};
  return doc;
}

}  // namespace bwfloor::cli
