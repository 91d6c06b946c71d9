#pragma once
// bwfloorctl's view of bwfloor-server: JSON in, JSON out, server errors as one readable line.

#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "http/client.h"

namespace bwfloor::cli {

struct ApiFailure {
  int status = 0;  // 0 = no answer (transport)
  std::string message;
};

class ApiClient {
 public:
  // `endpoints`: the server's replicas, tried in turn when one cannot be reached.
  ApiClient(std::vector<http::Url> endpoints, std::string token, http::ClientTls tls = {});
  // body may be null for bodiless requests. Placement paths need a microversion.
  Result<nlohmann::json, ApiFailure> call(const std::string& method, const std::string& path,
                                          const nlohmann::json& body = nullptr,
                                          const std::string& placementVersion = "");

 private:
  http::FailoverClient http_;
  std::string token_;
};

}  // namespace bwfloor::cli
