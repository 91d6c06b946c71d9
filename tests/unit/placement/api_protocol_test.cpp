// Cross-cutting behaviour of the Placement API over HTTP: microversion negotiation, routing
// (404/405), the version document, auth (noauth2 and token), content negotiation, the error body
// and caching headers (placement-api.md §1.1).

#include <regex>

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

class ApiProtocolTest : public PlacementApiTest {};

// --- microversions --------------------------------------------------------------------------

TEST_F(ApiProtocolTest, MissingVersionHeaderMeans1_0) {
  Reply r = send("GET", "/resource_providers", std::nullopt, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.0");
  EXPECT_EQ(r.header("vary"), "openstack-api-version");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, json({{"resource_providers", json::array()}}));
}

TEST_F(ApiProtocolTest, ExplicitAndLatestVersions) {
  Reply r = send("GET", "/resource_providers", std::nullopt, "1.39");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.39");
  r = send("GET", "/resource_providers", std::nullopt, "latest");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.39");
  r = send("GET", "/resource_providers", std::nullopt, "1.14");
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.14");
}

TEST_F(ApiProtocolTest, LastPlacementEntryOfTheHeaderWins) {
  Extra extra;
  extra.headers.add("OpenStack-API-Version", "compute 2.60, placement 1.10, placement 1.17");
  Reply r = send("GET", "/resource_providers", std::nullopt, "", extra);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.17");
  // Legacy X-OpenStack-Placement-API-Version is not read.
  Extra legacy;
  legacy.headers.add("X-OpenStack-Placement-API-Version", "1.17");
  r = send("GET", "/resource_providers", std::nullopt, "", legacy);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.0");
}

TEST_F(ApiProtocolTest, UnsupportedVersionIs406WithVersionRange) {
  // Numbers past any int (issue 15: std::stoi threw out_of_range and the server aborted).
  for (const char* v : {"1.40", "0.5", "2.0", "1.99999999999", "99999999999999999999.1"}) {
    SCOPED_TRACE(v);
    Reply r = send("GET", "/resource_providers", std::nullopt, v);
    EXPECT_EQ(r.status, 406);
    EXPECT_EQ(r.error()["status"], 406);
    EXPECT_EQ(r.error()["max_version"], "1.39");
    EXPECT_EQ(r.error()["min_version"], "1.0");
    EXPECT_EQ(r.errorDetail(),
              std::string("Invalid microversion: Unacceptable version header: ") + v);
    EXPECT_FALSE(r.error().contains("code"));  // no version was set
    EXPECT_FALSE(r.hasHeader("openstack-api-version"));
  }
}

TEST_F(ApiProtocolTest, MalformedVersionIs400) {
  for (const char* v : {"pony.horse", "1.2.3", "1"}) {
    SCOPED_TRACE(v);
    Reply r = send("GET", "/resource_providers", std::nullopt, v);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.errorDetail().find("invalid version string"), std::string::npos) << r.raw;
    EXPECT_FALSE(r.error().contains("max_version"));
  }
}

TEST_F(ApiProtocolTest, RouteNotInRequestedVersionIs404) {
  Reply r = send("GET", "/traits", std::nullopt, "1.5");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.5");
  EXPECT_EQ(send("GET", "/traits", std::nullopt, "1.6").status, 200);
  EXPECT_EQ(send("GET", "/resource_classes", std::nullopt, "1.1").status, 404);
  EXPECT_EQ(send("GET", "/usages?project_id=p", std::nullopt, "1.8").status, 404);
  EXPECT_EQ(send("POST", "/allocations", json::object(), "1.12").status, 404);
  EXPECT_EQ(send("POST", "/reshaper", json::object(), "1.29").status, 404);
  std::string rp = createProvider("rp");
  EXPECT_EQ(send("GET", "/resource_providers/" + rp + "/aggregates", std::nullopt, "1.0").status,
            404);
}

TEST_F(ApiProtocolTest, DeleteAllInventoriesBefore1_5Is405) {
  std::string rp = createProvider("rp");
  Reply r = send("DELETE", "/resource_providers/" + rp + "/inventories", std::nullopt, "1.4");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("vary"), "openstack-api-version");
  EXPECT_EQ(
      send("DELETE", "/resource_providers/" + rp + "/inventories", std::nullopt, "1.5").status,
      204);
}

TEST_F(ApiProtocolTest, UnknownMethodOnKnownUrlIs405WithAllow) {
  Reply r = send("PATCH", "/resource_providers", json::object());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, POST");
  std::string rp = createProvider("rp");
  r = send("POST", "/resource_providers/" + rp);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, DELETE, PUT");  // Placement's declaration order
  r = send("PATCH", "/resource_providers/" + rp + "/inventories", std::nullopt, "1.4");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, POST, PUT, DELETE");  // the router ignores versions
  // Routing comes before version checks: a wrong method on /traits at 1.5 is still 405.
  r = send("POST", "/traits", std::nullopt, "1.5");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
}

TEST_F(ApiProtocolTest, UnknownUrlIs404WithVersionButWithoutVary) {
  Reply r = send("GET", "/no_such_thing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.39");
  EXPECT_FALSE(r.hasHeader("vary"));
}

// --- version document ----------------------------------------------------------------------

TEST_F(ApiProtocolTest, VersionDocumentNeedsNoToken) {
  Extra anonymous;
  anonymous.token = "";
  const json want = {{"versions",
                      {{{"id", "v1.0"},
                        {"min_version", "1.0"},
                        {"max_version", "1.39"},
                        {"status", "CURRENT"},
                        {"links", {{{"rel", "self"}, {"href", ""}}}}}}}};
  for (const char* path : {"/", "/placement", "/placement/"}) {
    SCOPED_TRACE(path);
    Reply r = sendRaw("GET", path, "", anonymous);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, want);
    EXPECT_EQ(r.header("openstack-api-version"), "placement 1.0");
    EXPECT_FALSE(r.hasHeader("last-modified"));
    EXPECT_FALSE(r.hasHeader("cache-control"));
  }
  Reply r = sendRaw("GET", "/placement", "1.15", anonymous);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_TRUE(r.hasHeader("last-modified"));
}

// Issue 18, item 11: Placement answers at the root of the port as well as under /placement;
// links and Location name the mount the request used.
TEST_F(ApiProtocolTest, TheApiIsServedAtTheRootToo) {
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  Extra atRoot;
  atRoot.mount = "";
  const std::string uuid = newUuid();
  Reply root = send("POST", "/resource_providers", json{{"name", "at-root"}, {"uuid", uuid}},
                    kLatest, atRoot);
  ASSERT_EQ(root.status, 200) << root.raw;
  EXPECT_EQ(root.header("location"), base + "/resource_providers/" + uuid);
  EXPECT_EQ(root.body["links"][0]["href"], "/resource_providers/" + uuid);
  Reply prefixed = send("GET", "/resource_providers/" + uuid);
  ASSERT_EQ(prefixed.status, 200);
  EXPECT_EQ(prefixed.body["links"][0]["href"], "/placement/resource_providers/" + uuid);
  Reply listed = send("GET", "/resource_providers?name=at-root", std::nullopt, kLatest, atRoot);
  ASSERT_EQ(listed.status, 200) << listed.raw;
  EXPECT_EQ(listed.body["resource_providers"].size(), 1U);
  EXPECT_EQ(send("GET", "/traits/HW_CPU_X86_AVX2", std::nullopt, kLatest, atRoot).status, 204);
  EXPECT_EQ(send("GET", "/no_such_collection", std::nullopt, kLatest, atRoot).status, 404);
}

// --- auth: noauth2 --------------------------------------------------------------------------

TEST_F(ApiProtocolTest, MissingTokenIs401) {
  Extra anonymous;
  anonymous.token = "";
  Reply r = send("GET", "/resource_providers", std::nullopt, kLatest, anonymous);
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.hasHeader("x-openstack-request-id"));
  EXPECT_FALSE(r.hasHeader("openstack-api-version"));  // auth sits outside the microversions
  EXPECT_FALSE(r.hasHeader("vary"));
  // Auth runs before microversion negotiation: even a bad version header gives 401.
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, "pony.horse", anonymous).status, 401);
}

TEST_F(ApiProtocolTest, NonAdminTokenIs403OnAdminRoutes) {
  Extra user;
  user.token = "user:proj";
  Reply r = send("GET", "/resource_providers", std::nullopt, kLatest, user);
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(r.hasHeader("vary"));  // policy errors escape the handler (§1.1)
  EXPECT_EQ(r.header("openstack-api-version"), "placement 1.39");
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "x"}}, kLatest, user).status, 403);
  EXPECT_EQ(send("GET", "/resource_providers").body["resource_providers"].size(), 0u);
  // The user called "admin" is an admin without X-Roles.
  Extra admin;
  admin.token = "admin:someproject";
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, admin).status, 200);
}

TEST_F(ApiProtocolTest, XRolesIsHonoured) {
  Extra user;
  user.token = "alice:proj";
  user.headers.add("X-Roles", "member, admin");
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, user).status, 200);
  // Placement's policy knows no "service" role: a service user is an admin (issue 18).
  Extra service;
  service.token = "nova:service";
  service.headers.add("X-Roles", "service");
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, service).status, 403);
  // X-Roles replaces the default: the admin user without the admin role is not an admin.
  Extra demoted;
  demoted.token = "admin";
  demoted.headers.add("X-Roles", "reader");
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, demoted).status, 403);
}

TEST_F(ApiProtocolTest, ReaderMayReadUsagesOfItsOwnProjectOnly) {
  Extra reader;
  reader.token = "alice:proj";
  reader.headers.add("X-Roles", "reader");
  Reply r = send("GET", "/usages?project_id=proj", std::nullopt, kLatest, reader);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json({{"usages", json::object()}}));
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, reader).status, 403);
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, reader).status, 403);
  Extra member;
  member.token = "bob:proj";
  EXPECT_EQ(send("GET", "/usages?project_id=proj", std::nullopt, kLatest, member).status, 403);
  // X-Project-Id overrides the project of the token.
  Extra other = reader;
  other.headers.add("X-Project-Id", "other");
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, other).status, 200);
}

// --- auth: token mode -----------------------------------------------------------------------

TEST_F(ApiProtocolTest, TokenModeAdminAndReaderTokens) {
  ApiOptions options;
  options.auth = AuthStrategy::kToken;
  options.adminTokens = {"admin-secret"};
  options.readerTokens = {{"reader-secret", "p"}};
  startServer(options);
  Extra admin;
  admin.token = "admin-secret";
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, admin).status, 200);
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "a"}}, kLatest, admin).status, 200);
  Extra reader;
  reader.token = "reader-secret";
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, reader).status, 403);
  // A reader token reads its own project's usages, whatever X-Project-Id claims (issue 15: a
  // forged header read any project's).
  EXPECT_EQ(send("GET", "/usages?project_id=p", std::nullopt, kLatest, reader).status, 200);
  Extra forged = reader;
  forged.headers.add("X-Project-Id", "other");
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, forged).status, 403);
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, reader).status, 403);
  Extra wrong;
  wrong.token = "admin";  // a noauth2 token means nothing here
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, wrong).status, 401);
  Extra none;
  none.token = "";
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, none).status, 401);
  EXPECT_EQ(sendRaw("GET", "/", "", none).status, 200);
}

// Issue 15: every agent held an admin token, so any compute node could rewrite any host's
// inventory. An agent token acts as its host only.
TEST_F(ApiProtocolTest, TokenModeAgentTokensWriteOnlyTheirHostsTrees) {
  ApiOptions options;
  options.auth = AuthStrategy::kToken;
  options.adminTokens = {"admin-secret"};
  options.agentTokens = {{"agent-h1", "h1"}};
  startServer(options);
  Extra admin;
  admin.token = "admin-secret";
  Extra agent;
  agent.token = "agent-h1";
  const std::string other =
      send("POST", "/resource_providers", json{{"name", "h2"}}, kLatest, admin).body["uuid"];
  Reply root = send("POST", "/resource_providers", json{{"name", "h1"}}, kLatest, agent);
  ASSERT_EQ(root.status, 200) << root.raw;
  const std::string h1 = root.body["uuid"];
  Reply child =
      send("POST", "/resource_providers",
           json{{"name", "h1:Open vSwitch agent"}, {"parent_provider_uuid", h1}}, kLatest, agent);
  ASSERT_EQ(child.status, 200) << child.raw;
  const json inventories = {{"resource_provider_generation", 0},
                            {"inventories", {{"NET_BW_EGR_KILOBIT_PER_SEC", {{"total", 1000}}}}}};
  EXPECT_EQ(
      send("PUT", "/resource_providers/" + child.body["uuid"].get<std::string>() + "/inventories",
           inventories, kLatest, agent)
          .status,
      200);
  EXPECT_EQ(send("PUT", "/traits/CUSTOM_PHYSNET_X", std::nullopt, kLatest, agent).status, 201);
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, agent).status, 200);
  // Another host's tree, another root, allocations: refused, nothing changed.
  EXPECT_EQ(
      send("PUT", "/resource_providers/" + other + "/inventories", inventories, kLatest, agent)
          .status,
      403);
  EXPECT_EQ(send("DELETE", "/resource_providers/" + other, std::nullopt, kLatest, agent).status,
            403);
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "h3"}}, kLatest, agent).status, 403);
  EXPECT_EQ(send("POST", "/resource_providers",
                 json{{"name", "under-h2"}, {"parent_provider_uuid", other}}, kLatest, agent)
                .status,
            403);
  EXPECT_EQ(send("PUT", "/resource_providers/" + h1,
                 json{{"name", "h1"}, {"parent_provider_uuid", other}}, kLatest, agent)
                .status,
            403);
  EXPECT_EQ(send("DELETE", "/resource_classes/CUSTOM_X", std::nullopt, kLatest, agent).status, 403);
  EXPECT_EQ(
      send("GET", "/resource_providers/" + other + "/inventories", std::nullopt, kLatest, admin)
          .body["inventories"]
          .size(),
      0U);
}

// --- content negotiation ---------------------------------------------------------------------

TEST_F(ApiProtocolTest, BodyWithoutJsonContentTypeIs415) {
  Extra text;
  text.contentType = "text/plain";
  Reply r = send("POST", "/resource_providers", json{{"name", "x"}}, kLatest, text);
  EXPECT_EQ(r.status, 415);
  EXPECT_NE(r.errorDetail().find("text/plain is not supported"), std::string::npos) << r.raw;
  // Parameters are fine; another type that merely contains "application/json" is not.
  Extra charset;
  charset.contentType = "application/json; charset=UTF-8";
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "x"}}, kLatest, charset).status, 200);
  Extra patch;
  patch.contentType = "application/json-patch+json";
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "y"}}, kLatest, patch).status, 415);
  // A body without any Content-Type is refused before routing (handler.py): 400.
  Extra none;
  none.contentType = "";
  r = send("POST", "/resource_providers", json{{"name", "x"}}, kLatest, none);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.errorDetail().find("content-type header required"), std::string::npos) << r.raw;
  EXPECT_FALSE(r.hasHeader("vary"));
  // No body and no Content-Type on a handler that needs JSON: 415 naming None.
  r = send("PUT", "/resource_providers/" + newUuid(), std::nullopt);
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(send("GET", "/resource_providers").body["resource_providers"].size(), 1u);
}

TEST_F(ApiProtocolTest, AcceptExcludingJsonIs406OnJsonGets) {
  Extra text;
  text.accept = "text/plain";
  Reply r = send("GET", "/resource_providers", std::nullopt, kLatest, text);
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(r.header("content-type").rfind("text/plain", 0), 0u);  // error follows Accept
  for (const char* accept : {"application/json", "*/*", "application/*", ""}) {
    Extra ok;
    ok.accept = accept;
    EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, ok).status, 200) << accept;
  }
}

TEST_F(ApiProtocolTest, ErrorBodyFormatFollowsAccept) {
  std::string path = "/resource_providers/" + newUuid();
  Reply r = send("GET", path, std::nullopt, "1.22");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/json");
  ASSERT_TRUE(r.error().is_object()) << r.raw;
  EXPECT_EQ(r.error()["status"], 404);
  EXPECT_EQ(r.error()["title"], "Not Found");
  EXPECT_FALSE(r.error().contains("code"));  // code only from 1.23
  std::string requestId = r.error()["request_id"].get<std::string>();
  EXPECT_EQ(requestId, r.header("x-openstack-request-id"));
  EXPECT_TRUE(std::regex_match(requestId, std::regex("req-[0-9a-f-]{36}"))) << requestId;

  r = send("GET", path, std::nullopt, "1.23");
  EXPECT_EQ(r.errorCode(), "placement.undefined_code");
  EXPECT_NE(r.error()["request_id"], requestId);  // one id per request

  // Placement's request log turns an absent or "*/*" Accept into application/json; then webob
  // picks by q-value, a tie going to text/html, and text/plain when neither is acceptable.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "application/json"},
      {"*/*", "application/json"},
      {"text/html, application/json", "text/html"},
      {"application/json, text/html", "text/html"},
      {"text/html;q=0.5, application/json", "application/json"},
      {"application/*", "application/json"},
      {"text/*;q=0.9, application/json;q=0.8", "text/html"},
      {"text/plain", "text/plain"},
      {"text/html;q=0, application/json;q=0", "text/plain"},
      {"*/*;q=0.1, text/plain", "text/html"},
  };
  for (const auto& [accept, type] : cases) {
    SCOPED_TRACE(accept);
    Extra extra;
    extra.accept = accept;
    r = send("PATCH", "/resource_providers", std::nullopt, "1.23", extra);  // no check_accept
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.header("content-type").rfind(type, 0), 0u) << r.header("content-type");
  }
}

// The error bodies word for word as Placement 8.0 (webob 1.8) writes them, captured from the real
// service: the explanation of the status frames the message; JSON and text strip tags and turn
// newlines into spaces, HTML escapes the message.
TEST_F(ApiProtocolTest, ErrorBodiesAreFramedAsWebobFramesThem) {
  const std::string missing = "/resource_providers/" + newUuid();
  Reply r = send("GET", missing, std::nullopt, "1.39");
  EXPECT_EQ(r.error()["detail"],
            "The resource could not be found.\n\n No resource provider with uuid " +
                missing.substr(20) + " found  ");
  Extra text;
  text.accept = "text/plain";
  r = send("GET", "/resource_classes/CUSTOM_PONY", std::nullopt, "1.39", text);
  EXPECT_EQ(r.raw,
            "406 Not Acceptable\n\nThe resource could not be generated that was acceptable to "
            "your browser (content of type text/plain. \n\n Only application/json is provided");
  Extra html;
  html.accept = "text/html";
  r = send("PATCH", "/resource_providers", std::nullopt, "1.39", html);
  EXPECT_EQ(
      r.raw,
      "<html>\n <head>\n  <title>405 Method Not Allowed</title>\n </head>\n <body>\n  "
      "<h1>405 Method Not Allowed</h1>\n  The method PATCH is not allowed for this resource. "
      "<br /><br />\nThe method specified is not allowed for this resource.\n </body>\n</html>");
  r = send("PATCH", "/resource_providers", std::nullopt, "1.39");
  EXPECT_EQ(r.error()["detail"],
            "The method PATCH is not allowed for this resource. \n\n The method specified is not "
            "allowed for this resource.");
  r = send("GET", "/resource_providers", std::nullopt, "9.0");
  EXPECT_EQ(r.error()["detail"],
            "The resource could not be generated that was acceptable to your browser (content of "
            "type application/json. \n\n Invalid microversion: Unacceptable version header: 9.0");
  // A tag in the message is dropped from JSON (webob's strip_tags) and escaped in HTML.
  const std::string rp = createProvider("framed");
  const json bad = {{"resource_class", "VCPU"}, {"total", 1}, {"x", "<b>"}};
  r = send("POST", "/resource_providers/" + rp + "/inventories", bad, "1.39");
  EXPECT_NE(r.error()["detail"].get<std::string>().find("'x': ''}  "), std::string::npos) << r.raw;
  r = send("POST", "/resource_providers/" + rp + "/inventories", bad, "1.39", html);
  EXPECT_NE(r.raw.find("&#x27;x&#x27;: &#x27;&lt;b&gt;&#x27;}\n\n\n </body>"), std::string::npos)
      << r.raw;
}

TEST_F(ApiProtocolTest, CachingHeadersFrom1_15Only) {
  std::string rp = createProvider("rp");
  Reply r = send("GET", "/resource_providers/" + rp, std::nullopt, "1.14");
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.hasHeader("last-modified"));
  EXPECT_FALSE(r.hasHeader("cache-control"));
  for (const char* path :
       {"", "/inventories", "/usages", "/traits", "/aggregates", "/allocations"}) {
    SCOPED_TRACE(path);
    r = send("GET", "/resource_providers/" + rp + path, std::nullopt, "1.15");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    if (std::string(path) == "/inventories") {
      // Placement dates inventories by the newest one: with none, no last-modified.
      EXPECT_FALSE(r.hasHeader("last-modified"));
      continue;
    }
    EXPECT_TRUE(std::regex_match(
        r.header("last-modified"),
        std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")))
        << r.header("last-modified");
  }
  r = send("GET", "/resource_providers", std::nullopt, "1.15");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  r = send("POST", "/resource_providers", json{{"name", "other"}}, "1.20");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_TRUE(r.hasHeader("last-modified"));
}

}  // namespace
}  // namespace bwfloor::placement::testing
