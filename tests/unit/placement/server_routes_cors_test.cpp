// CORS where bwfloor-server applies it: Placement's answers (at /placement and the root), outside
// auth as in Placement's pipeline; not /v1.
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"
#include "placement/ports/json_store.h"
#include "placement/ports/ports_service.h"
#include "placement/ports/v1_api.h"
#include "placement/server_routes.h"
#include "placement/store/store.h"

namespace bwfloor::placement {
namespace {

class ServerRoutesCorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = std::make_unique<PlacementModel>(std::make_shared<MemoryStore>());
    ASSERT_TRUE(model_->load());
    api_ = std::make_unique<PlacementApi>(*model_, ApiOptions{});
    ports_ = std::make_unique<ports::PortsService>(
        *model_, std::make_shared<ports::MemoryJsonStore>(), ports::PortsOptions{});
    ASSERT_TRUE(ports_->load());
    v1_ = std::make_unique<ports::V1Api>(*ports_, ApiOptions{});
  }
  void TearDown() override {
    ports_.reset();  // its waker may still answer through v1_
    v1_.reset();
  }

  http::Response call(const http::CorsOptions& cors, const std::string& method,
                      const std::string& path, std::vector<std::pair<std::string, std::string>> h) {
    ServerRoutes routes(*api_, *v1_, nullptr, nullptr, cors);
    http::Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    for (auto& [name, value] : h) req.headers.add(name, value);
    std::optional<http::Response> answer;
    routes.handle(std::move(req), [&](http::Response resp) { answer = std::move(resp); });
    EXPECT_TRUE(answer.has_value());
    return answer ? *answer : http::Response{};
  }
  static std::string header(const http::Response& resp, const char* name) {
    const std::string* value = resp.headers.find(name);
    return value ? *value : "<absent>";
  }

  std::unique_ptr<PlacementModel> model_;
  std::unique_ptr<PlacementApi> api_;
  std::unique_ptr<ports::PortsService> ports_;
  std::unique_ptr<ports::V1Api> v1_;
};

http::CorsOptions horizon() {
  http::CorsOptions cors;
  cors.allowedOrigins = {"https://horizon.example.com"};
  cors.allowHeaders = {"X-Auth-Token"};
  return cors;
}

TEST_F(ServerRoutesCorsTest, PreflightNeedsNoTokenAndCoversBothMounts) {
  for (const char* path : {"/placement/resource_providers", "/resource_providers", "/"}) {
    http::Response resp = call(horizon(), "OPTIONS", path,
                               {{"Origin", "https://horizon.example.com"},
                                {"Access-Control-Request-Method", "GET"},
                                {"Access-Control-Request-Headers", "X-Auth-Token"}});
    EXPECT_EQ(resp.status, 200) << path;
    EXPECT_EQ(header(resp, "access-control-allow-origin"), "https://horizon.example.com") << path;
    EXPECT_EQ(header(resp, "access-control-allow-headers"), "X-Auth-Token") << path;
  }
  // Without [cors] allowed_origin the middleware is not there: auth answers first.
  http::Response off =
      call(http::CorsOptions{}, "OPTIONS", "/placement/resource_providers",
           {{"Origin", "https://horizon.example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(off.status, 401);
  EXPECT_EQ(header(off, "access-control-allow-origin"), "<absent>");
}

TEST_F(ServerRoutesCorsTest, ActualRequestsAreDecoratedEvenWhenRefused) {
  http::Response ok = call(horizon(), "GET", "/placement/resource_providers",
                           {{"Origin", "https://horizon.example.com"}, {"X-Auth-Token", "admin"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(header(ok, "access-control-allow-origin"), "https://horizon.example.com");
  EXPECT_EQ(header(ok, "access-control-allow-credentials"), "true");
  http::Response unauthenticated = call(horizon(), "GET", "/placement/resource_providers",
                                        {{"Origin", "https://horizon.example.com"}});
  EXPECT_EQ(unauthenticated.status, 401);
  EXPECT_EQ(header(unauthenticated, "access-control-allow-origin"), "https://horizon.example.com");
}

TEST_F(ServerRoutesCorsTest, V1IsNotCovered) {
  http::Response resp =
      call(horizon(), "GET", "/v1/networks",
           {{"Origin", "https://horizon.example.com"}, {"X-Auth-Token", "admin"}});
  EXPECT_EQ(header(resp, "access-control-allow-origin"), "<absent>");
  http::Response pre =
      call(horizon(), "OPTIONS", "/v1/networks",
           {{"Origin", "https://horizon.example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(header(pre, "access-control-allow-origin"), "<absent>");
}

}  // namespace
}  // namespace bwfloor::placement
