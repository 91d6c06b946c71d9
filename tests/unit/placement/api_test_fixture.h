#pragma once
// PlacementApiTest: the real Placement API (HttpServer + PlacementApi + PlacementModel over a
// SqliteStore in a temporary directory) on 127.0.0.1, port 0, driven through HttpClient.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "http/client.h"
#include "http/server.h"
#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement::testing {

using nlohmann::json;

// One HTTP answer: status, headers, raw body and the body parsed as JSON (null if not JSON).
struct Reply {
  int status = 0;
  http::Headers headers;
  std::string raw;
  json body;

  // The header's value, or "<absent>".
  std::string header(std::string_view name) const;
  bool hasHeader(std::string_view name) const { return headers.find(name) != nullptr; }
  // errors[0] of a JSON error body (null if there is none).
  const json& error() const;
  std::string errorCode() const;
  // The error's message without webob's explanation frame around it.
  std::string errorDetail() const;
};

// Options for one request beyond method, path, body and version.
struct Extra {
  std::string token = "admin";              // X-Auth-Token; empty = none
  std::string accept = "application/json";  // empty = no Accept header
  std::optional<std::string> contentType;   // default: application/json when a body is sent
  http::Headers headers;                    // anything else
  std::string mount = "/placement";         // send(): where the API is addressed ("" = root)
};

class PlacementApiTest : public ::testing::Test {
 protected:
  static constexpr const char* kLatest = "1.39";

  void SetUp() override { startServer(ApiOptions{}); }
  void TearDown() override;

  // Restarts the server with other API options (auth mode, tokens); the database is kept.
  void startServer(ApiOptions options);

  // METHOD /placement + path. `version` "" sends no OpenStack-API-Version header. A body that is
  // a string is sent as is; any other JSON value is serialised.
  Reply send(const std::string& method, const std::string& path,
             const std::optional<json>& body = std::nullopt, const std::string& version = kLatest,
             const Extra& extra = {});
  // METHOD path (no /placement prefix added), for the root document.
  Reply sendRaw(const std::string& method, const std::string& fullPath, const std::string& version,
                const Extra& extra = {});

  // --- setup helpers (each asserts success with ADD_FAILURE and returns what was made) ---
  std::string createProvider(const std::string& name, const std::string& parent = "");
  // Sets the inventories of a provider (whole set) at its current generation.
  void setInventories(const std::string& rp, const json& inventories);
  void setInventory(const std::string& rp, const std::string& rc, int64_t total,
                    const json& fields = json::object());
  int64_t generation(const std::string& rp);
  json usages(const std::string& rp);
  // PUT /allocations/{consumer} at 1.39 with a new consumer: rp -> {rc: n}.
  Reply allocate(const std::string& consumer, const json& allocations,
                 const std::string& project = "proj", const std::string& user = "user",
                 const std::string& type = "INSTANCE");
  // A fresh random uuid.
  static std::string newUuid();

  std::filesystem::path dir_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<PlacementModel> model_;
  std::unique_ptr<PlacementApi> api_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<http::HttpClient> client_;
};

}  // namespace bwfloor::placement::testing
