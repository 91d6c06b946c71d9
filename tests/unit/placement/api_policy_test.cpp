// Placement's policy through the API: every route x the personas keystonemiddleware passes
// (noauth2 headers: X-Roles flattened as keystone does, OpenStack-System-Scope) x the four
// combinations of enforce_scope / enforce_new_defaults; the 403 texts; token mode; the agent.
#include <gmock/gmock.h>

#include "tests/unit/placement/api_test_fixture.h"

namespace bwfloor::placement::testing {
namespace {

using ::testing::HasSubstr;

class ApiPolicyTest : public PlacementApiTest {
 protected:
  void startWith(bool enforceScope, bool enforceNewDefaults) {
    ApiOptions options;
    auto enforcer =
        policy::Enforcer::create({enforceScope, enforceNewDefaults}, policy::placementDefaults());
    ASSERT_TRUE(enforcer);
    options.policy = *enforcer;
    startServer(options);
  }
};

enum class RuleClass { kSystemAdmin, kSystemReader, kUsages };

struct RouteCase {
  const char* method;
  const char* path;  // {u}: a provider / consumer uuid that does not exist
  RuleClass rule;
  const char* ruleName;
};

// Every route of PlacementApi, with the rule its Placement handler enforces.
const std::vector<RouteCase>& routeCases() {
  using R = RuleClass;
  static const std::vector<RouteCase> kCases = {
      {"GET", "/resource_providers", R::kSystemReader, "placement:resource_providers:list"},
      {"POST", "/resource_providers", R::kSystemAdmin, "placement:resource_providers:create"},
      {"GET", "/resource_providers/{u}", R::kSystemReader, "placement:resource_providers:show"},
      {"DELETE", "/resource_providers/{u}", R::kSystemAdmin, "placement:resource_providers:delete"},
      {"PUT", "/resource_providers/{u}", R::kSystemAdmin, "placement:resource_providers:update"},
      {"GET", "/resource_providers/{u}/inventories", R::kSystemReader,
       "placement:resource_providers:inventories:list"},
      {"POST", "/resource_providers/{u}/inventories", R::kSystemAdmin,
       "placement:resource_providers:inventories:create"},
      {"PUT", "/resource_providers/{u}/inventories", R::kSystemAdmin,
       "placement:resource_providers:inventories:update"},
      {"DELETE", "/resource_providers/{u}/inventories", R::kSystemAdmin,
       "placement:resource_providers:inventories:delete"},
      {"GET", "/resource_providers/{u}/inventories/VCPU", R::kSystemReader,
       "placement:resource_providers:inventories:show"},
      {"PUT", "/resource_providers/{u}/inventories/VCPU", R::kSystemAdmin,
       "placement:resource_providers:inventories:update"},
      {"DELETE", "/resource_providers/{u}/inventories/VCPU", R::kSystemAdmin,
       "placement:resource_providers:inventories:delete"},
      {"GET", "/resource_providers/{u}/usages", R::kSystemReader,
       "placement:resource_providers:usages"},
      {"GET", "/resource_providers/{u}/aggregates", R::kSystemReader,
       "placement:resource_providers:aggregates:list"},
      {"PUT", "/resource_providers/{u}/aggregates", R::kSystemAdmin,
       "placement:resource_providers:aggregates:update"},
      {"GET", "/resource_providers/{u}/allocations", R::kSystemReader,
       "placement:resource_providers:allocations:list"},
      {"GET", "/resource_providers/{u}/traits", R::kSystemReader,
       "placement:resource_providers:traits:list"},
      {"PUT", "/resource_providers/{u}/traits", R::kSystemAdmin,
       "placement:resource_providers:traits:update"},
      {"DELETE", "/resource_providers/{u}/traits", R::kSystemAdmin,
       "placement:resource_providers:traits:delete"},
      {"GET", "/traits", R::kSystemReader, "placement:traits:list"},
      {"GET", "/traits/CUSTOM_X", R::kSystemReader, "placement:traits:show"},
      {"PUT", "/traits/CUSTOM_X", R::kSystemAdmin, "placement:traits:update"},
      {"DELETE", "/traits/CUSTOM_X", R::kSystemAdmin, "placement:traits:delete"},
      {"GET", "/resource_classes", R::kSystemReader, "placement:resource_classes:list"},
      {"POST", "/resource_classes", R::kSystemAdmin, "placement:resource_classes:create"},
      {"GET", "/resource_classes/CUSTOM_X", R::kSystemReader, "placement:resource_classes:show"},
      {"PUT", "/resource_classes/CUSTOM_X", R::kSystemAdmin, "placement:resource_classes:update"},
      {"DELETE", "/resource_classes/CUSTOM_X", R::kSystemAdmin,
       "placement:resource_classes:delete"},
      {"GET", "/allocations/{u}", R::kSystemReader, "placement:allocations:list"},
      {"PUT", "/allocations/{u}", R::kSystemAdmin, "placement:allocations:update"},
      {"DELETE", "/allocations/{u}", R::kSystemAdmin, "placement:allocations:delete"},
      {"POST", "/allocations", R::kSystemAdmin, "placement:allocations:manage"},
      {"GET", "/usages?project_id=proj", R::kUsages, "placement:usages"},
      {"POST", "/reshaper", R::kSystemAdmin, "placement:reshaper:reshape"},
      {"GET", "/allocation_candidates?resources=VCPU:1", R::kSystemReader,
       "placement:allocation_candidates:list"},
  };
  return kCases;
}

struct HttpPersona {
  const char* name;
  const char* token;
  const char* roles;
  bool system;
  // Per rule class, enforce_scope / enforce_new_defaults = FF, FT, TF, TT: A allowed (any status
  // but 401/403), D 403 "Policy does not allow RULE to be performed.", S 403 with the rule name
  // (InvalidScope). The same table as PolicyRulesTest's, from Placement's rules.
  const char* systemAdminRules;
  const char* systemReaderRules;
  const char* usages;  // GET /usages?project_id=proj, the caller's own project
};

const std::vector<HttpPersona>& httpPersonas() {
  static const std::vector<HttpPersona> kPersonas = {
      {"system admin", "sysadmin", "admin,member,reader", true, "AAAA", "AAAA", "AAAA"},
      {"system reader", "sysreader", "reader", true, "DDDD", "AAAA", "AAAA"},
      {"project admin", "alice:proj", "admin,member,reader", false, "ADSS", "ADSS", "AAAA"},
      {"project member", "bob:proj", "member,reader", false, "DDSS", "DDSS", "AAAA"},
      {"project reader", "carol:proj", "reader", false, "DDSS", "DDSS", "AAAA"},
  };
  return kPersonas;
}

std::string fill(std::string path, const std::string& uuid) {
  const size_t at = path.find("{u}");
  if (at != std::string::npos) path.replace(at, 3, uuid);
  return path;
}

TEST_F(ApiPolicyTest, PersonaMatrixOverEveryRoute) {
  const std::string uuid = newUuid();
  int index = 0;
  for (const bool scope : {false, true}) {
    for (const bool newDefaults : {false, true}) {
      startWith(scope, newDefaults);
      for (const HttpPersona& persona : httpPersonas()) {
        Extra extra;
        extra.token = persona.token;
        extra.headers.add("X-Roles", persona.roles);
        if (persona.system) extra.headers.add("OpenStack-System-Scope", "all");
        for (const RouteCase& route : routeCases()) {
          const char* row = route.rule == RuleClass::kSystemAdmin    ? persona.systemAdminRules
                            : route.rule == RuleClass::kSystemReader ? persona.systemReaderRules
                                                                     : persona.usages;
          const char want = row[index];
          std::optional<json> body;
          if (std::string(route.method) == "POST" || std::string(route.method) == "PUT") {
            body = json::object();
          }
          Reply r = send(route.method, fill(route.path, uuid), body, kLatest, extra);
          const std::string where = std::string(persona.name) + " " + route.method + " " +
                                    route.path + " scope=" + std::to_string(scope) +
                                    " new_defaults=" + std::to_string(newDefaults);
          if (want == 'A') {
            EXPECT_NE(r.status, 403) << where << ": " << r.raw;
            EXPECT_NE(r.status, 401) << where;
          } else {
            EXPECT_EQ(r.status, 403) << where;
            EXPECT_EQ(r.errorDetail(), want == 'S' ? std::string(route.ruleName)
                                                   : std::string("Policy does not allow ") +
                                                         route.ruleName + " to be performed.")
                << where;
          }
        }
      }
      ++index;
    }
  }
}

TEST_F(ApiPolicyTest, UsagesOfAnotherProjectNeedTheDeprecatedAdminRule) {
  Extra projectAdmin;
  projectAdmin.token = "alice:proj";
  projectAdmin.headers.add("X-Roles", "admin,member,reader");
  startWith(false, false);
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, projectAdmin).status,
            200);
  startWith(false, true);
  Reply r = send("GET", "/usages?project_id=other", std::nullopt, kLatest, projectAdmin);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.errorDetail(), "Policy does not allow placement:usages to be performed.");
  // A system reader reads any project's usages (the policy's target, not the caller's project).
  Extra systemReader;
  systemReader.token = "sysreader";
  systemReader.headers.add("X-Roles", "reader");
  systemReader.headers.add("OpenStack-System-Scope", "all");
  EXPECT_EQ(send("GET", "/usages?project_id=other", std::nullopt, kLatest, systemReader).status,
            200);
  // The target is the last project_id of the query, as webob's GET.get reads it.
  EXPECT_EQ(
      send("GET", "/usages?project_id=other&project_id=proj", std::nullopt, kLatest, projectAdmin)
          .status,
      200);
}

TEST_F(ApiPolicyTest, SystemScopeHeaderDropsTheTokensProject) {
  // NoAuthMiddleware sets X-Tenant-Id only without OpenStack-System-Scope: a system-scoped
  // reader is not also a reader of the token's project.
  startWith(true, true);
  Extra reader;
  reader.token = "carol:proj";
  reader.headers.add("X-Roles", "reader");
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, reader).status, 403);
  reader.headers.add("OpenStack-System-Scope", "all");
  EXPECT_EQ(send("GET", "/resource_providers", std::nullopt, kLatest, reader).status, 200);
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "x"}}, kLatest, reader).status, 403);
  // Roles are case-insensitive, as oslo's role check.
  Extra shouting;
  shouting.token = "dave";
  shouting.headers.add("X-Roles", "ADMIN");
  shouting.headers.add("OpenStack-System-Scope", "all");
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "y"}}, kLatest, shouting).status,
            200);
}

TEST_F(ApiPolicyTest, FileRulesReachTheApi) {
  ApiOptions options;
  auto enforcer = policy::Enforcer::create({}, policy::placementDefaults(),
                                           {{"placement:traits:list", "role:observer"}});
  ASSERT_TRUE(enforcer);
  options.policy = *enforcer;
  startServer(options);
  Extra observer;
  observer.token = "olga:proj";
  observer.headers.add("X-Roles", "observer");
  EXPECT_EQ(send("GET", "/traits", std::nullopt, kLatest, observer).status, 200);
  EXPECT_EQ(send("GET", "/traits/HW_CPU_X86_AVX", std::nullopt, kLatest, observer).status, 403);
  // The file replaced the rule: the admin's deprecated fallback no longer applies to it.
  EXPECT_EQ(send("GET", "/traits").status, 403);
  EXPECT_EQ(send("GET", "/resource_classes").status, 200);
}

TEST_F(ApiPolicyTest, TokenModeAdminIsSystemAdmin) {
  ApiOptions options;
  options.auth = AuthStrategy::kToken;
  options.adminTokens = {"admin-secret"};
  options.readerTokens = {{"reader-secret", "p"}};
  auto enforcer = policy::Enforcer::create({true, true}, policy::placementDefaults());
  ASSERT_TRUE(enforcer);
  options.policy = *enforcer;
  startServer(options);
  Extra admin;
  admin.token = "admin-secret";
  EXPECT_EQ(send("POST", "/resource_providers", json{{"name", "a"}}, kLatest, admin).status, 200);
  EXPECT_EQ(send("GET", "/usages?project_id=any", std::nullopt, kLatest, admin).status, 200);
  Extra reader;
  reader.token = "reader-secret";
  Reply r = send("GET", "/resource_providers", std::nullopt, kLatest, reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.errorDetail(), "placement:resource_providers:list");  // InvalidScope
  EXPECT_EQ(send("GET", "/usages?project_id=p", std::nullopt, kLatest, reader).status, 200);
  EXPECT_EQ(send("GET", "/usages?project_id=q", std::nullopt, kLatest, reader).status, 403);
}

}  // namespace
}  // namespace bwfloor::placement::testing
