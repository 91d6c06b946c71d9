// CORS as oslo.middleware's filter answers it (oslo_middleware/cors.py): preflight allowed and
// refused, the headers of a simple request, credentials, max_age, "*".
#include "http/cors.h"

#include <gtest/gtest.h>

namespace bwfloor::http {
namespace {

Request request(const std::string& method, std::vector<std::pair<std::string, std::string>> h) {
  Request req;
  req.method = method;
  req.path = "/placement/resource_providers";
  for (auto& [name, value] : h) req.headers.add(name, value);
  return req;
}

std::string header(const Response& resp, const char* name) {
  const std::string* value = resp.headers.find(name);
  return value ? *value : "<absent>";
}

CorsOptions horizon() {
  CorsOptions options;
  options.allowedOrigins = {"https://horizon.example.com"};
  options.allowHeaders = {"X-Auth-Token", "OpenStack-API-Version"};
  options.exposeHeaders = {"OpenStack-API-Version", "X-OpenStack-Request-Id"};
  return options;
}

TEST(CorsTest, PreflightFromAnAllowedOrigin) {
  Cors cors(horizon());
  Response resp = cors.preflight(request(
      "OPTIONS",
      {{"Origin", "https://horizon.example.com"},
       {"Access-Control-Request-Method", "PUT"},
       {"Access-Control-Request-Headers", "x-auth-token, Content-Type,openstack-api-version"}}));
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, "");
  EXPECT_EQ(header(resp, "content-type"), "<absent>");
  EXPECT_EQ(header(resp, "access-control-allow-origin"), "https://horizon.example.com");
  EXPECT_EQ(header(resp, "vary"), "Origin");
  EXPECT_EQ(header(resp, "access-control-allow-credentials"), "true");
  EXPECT_EQ(header(resp, "access-control-max-age"), "3600");
  EXPECT_EQ(header(resp, "access-control-allow-methods"), "PUT");
  // The requested headers, as the browser wrote them (trimmed), joined with ",".
  EXPECT_EQ(header(resp, "access-control-allow-headers"),
            "x-auth-token,Content-Type,openstack-api-version");
  EXPECT_EQ(header(resp, "access-control-expose-headers"), "<absent>");  // not on a preflight
}

TEST(CorsTest, RefusedPreflightIsA200WithoutCorsHeaders) {
  Cors cors(horizon());
  const std::vector<std::vector<std::pair<std::string, std::string>>> refused = {
      {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "GET"}},
      {{"Origin", "https://horizon.example.com"}},  // no method
      {{"Origin", "https://horizon.example.com"}, {"Access-Control-Request-Method", "get"}},
      {{"Origin", "https://horizon.example.com"}, {"Access-Control-Request-Method", "CONNECT"}},
      {{"Origin", "https://horizon.example.com"},
       {"Access-Control-Request-Method", "GET"},
       {"Access-Control-Request-Headers", "X-Auth-Token, X-Secret"}},
      {{"Access-Control-Request-Method", "GET"}},  // no Origin
  };
  for (const auto& headers : refused) {
    Response resp = cors.preflight(request("OPTIONS", headers));
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(header(resp, "access-control-allow-origin"), "<absent>") << headers.size();
    EXPECT_EQ(header(resp, "vary"), "<absent>");
  }
}

TEST(CorsTest, SimpleRequestHeaders) {
  Cors cors(horizon());
  Response resp;
  resp.headers.set("vary", "openstack-api-version");
  cors.decorate(request("GET", {{"Origin", "https://horizon.example.com"}}), resp);
  EXPECT_EQ(header(resp, "vary"), "openstack-api-version,Origin");
  EXPECT_EQ(header(resp, "access-control-allow-origin"), "https://horizon.example.com");
  EXPECT_EQ(header(resp, "access-control-allow-credentials"), "true");
  EXPECT_EQ(header(resp, "access-control-expose-headers"),
            "OpenStack-API-Version,X-OpenStack-Request-Id");
  EXPECT_EQ(header(resp, "access-control-max-age"), "<absent>");

  Response other;
  cors.decorate(request("GET", {{"Origin", "https://evil.example.com"}}), other);
  EXPECT_TRUE(other.headers.items().empty());
  Response noOrigin;
  cors.decorate(request("GET", {}), noOrigin);
  EXPECT_TRUE(noOrigin.headers.items().empty());
  // An answer that already carries Access-Control-Allow-Origin is left alone.
  Response own;
  own.headers.set("access-control-allow-origin", "https://x");
  cors.decorate(request("GET", {{"Origin", "https://horizon.example.com"}}), own);
  EXPECT_EQ(header(own, "vary"), "<absent>");
}

TEST(CorsTest, CredentialsMaxAgeAndWildcard) {
  CorsOptions options = horizon();
  options.allowedOrigins = {"*"};
  options.allowCredentials = false;
  options.maxAgeSeconds = 0;
  options.exposeHeaders.clear();
  Cors cors(options);
  Response pre = cors.preflight(request("OPTIONS", {{"Origin", "https://any.example.com"},
                                                    {"Access-Control-Request-Method", "GET"}}));
  EXPECT_EQ(header(pre, "access-control-allow-origin"), "*");  // oslo answers the config key
  EXPECT_EQ(header(pre, "access-control-allow-credentials"), "<absent>");
  EXPECT_EQ(header(pre, "access-control-max-age"), "<absent>");
  EXPECT_EQ(header(pre, "access-control-allow-headers"), "<absent>");
  Response simple;
  cors.decorate(request("GET", {{"Origin", "https://any.example.com"}}), simple);
  EXPECT_EQ(header(simple, "access-control-allow-origin"), "*");
  EXPECT_EQ(header(simple, "access-control-expose-headers"), "<absent>");
  options.maxAgeSeconds = 60;
  Response cached =
      Cors(options).preflight(request("OPTIONS", {{"Origin", "https://any.example.com"},
                                                  {"Access-Control-Request-Method", "GET"}}));
  EXPECT_EQ(header(cached, "access-control-max-age"), "60");
}

TEST(CorsTest, OffWithoutAllowedOrigin) {
  EXPECT_FALSE(Cors(CorsOptions{}).enabled());
  EXPECT_TRUE(Cors(horizon()).enabled());
}

}  // namespace
}  // namespace bwfloor::http
