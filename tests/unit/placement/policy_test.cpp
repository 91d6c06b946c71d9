// Placement's policy engine: oslo.policy's language (parser), its checks (evaluator), the rule
// set (deprecated rules, scope, the policy file) and Placement 8.0's defaults per persona.
#include "placement/policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace bwfloor::placement::policy {
namespace {

using ::testing::HasSubstr;

std::string parsed(const std::string& text) {
  auto check = parseCheckString(text, "r");
  return check ? check->toString() : "ERROR: " + check.error().message();
}

std::string parseError(const std::string& text) {
  auto check = parseCheckString(text, "my:rule");
  return check ? "parsed as " + check->toString() : check.error().message();
}

// --- parser -----------------------------------------------------------------------------------

TEST(PolicyParserTest, EveryConstruct) {
  EXPECT_EQ(parsed(""), "@");
  EXPECT_EQ(parsed("   "), "@");
  EXPECT_EQ(parsed("@"), "@");
  EXPECT_EQ(parsed("!"), "!");
  EXPECT_EQ(parsed("rule:admin_api"), "rule:admin_api");
  EXPECT_EQ(parsed("role:Admin"), "role:Admin");
  EXPECT_EQ(parsed("system_scope:all"), "system_scope:all");
  EXPECT_EQ(parsed("project_id:%(project_id)s"), "project_id:%(project_id)s");
  EXPECT_EQ(parsed("role:a and role:b"), "(role:a and role:b)");
  EXPECT_EQ(parsed("role:a or role:b"), "(role:a or role:b)");
  EXPECT_EQ(parsed("not role:a"), "not role:a");
  EXPECT_EQ(parsed("role:a AND role:b Or NOT role:c"), "((role:a and role:b) or not role:c)");
  EXPECT_EQ(parsed("role:a and role:b and role:c"), "(role:a and role:b and role:c)");
}

TEST(PolicyParserTest, PrecedenceIsNotThenAndThenOr) {
  EXPECT_EQ(parsed("role:a or role:b and role:c"), "(role:a or (role:b and role:c))");
  EXPECT_EQ(parsed("role:a and role:b or role:c"), "((role:a and role:b) or role:c)");
  EXPECT_EQ(parsed("not role:a and role:b"), "(not role:a and role:b)");
  EXPECT_EQ(parsed("not not role:a"), "not not role:a");
  EXPECT_EQ(parsed("(role:a or role:b) and role:c"), "((role:a or role:b) and role:c)");
  EXPECT_EQ(parsed("((role:a))"), "role:a");
  EXPECT_EQ(parsed("not (role:a or role:b)"), "not (role:a or role:b)");
  // The parentheses of %(key)s stay in the check.
  EXPECT_EQ(parsed("(project_id:%(project_id)s)"), "project_id:%(project_id)s");
}

TEST(PolicyParserTest, ErrorsNameTheRuleAndThePosition) {
  EXPECT_EQ(parseError("role:a and"), "rule 'my:rule': position 11: a check is missing at the end");
  EXPECT_EQ(parseError("role:a or or role:b"),
            "rule 'my:rule': position 11: a check is expected, not 'or'");
  EXPECT_EQ(parseError("(role:a or role:b"),
            "rule 'my:rule': position 18: ')' expected to close the '(' at position 1");
  EXPECT_EQ(parseError("role:a)"), "rule 'my:rule': position 7: unexpected ')'");
  EXPECT_EQ(parseError("role:a role:b"), "rule 'my:rule': position 8: unexpected 'role:b'");
  EXPECT_THAT(parseError("role:a and admin"),
              HasSubstr("position 12: 'admin' is not a check (KIND:MATCH, '@' or '!')"));
  EXPECT_THAT(parseError("'admin'"), HasSubstr("position 1: a quoted string"));
  EXPECT_THAT(parseError("http://example.com/%(x)s"), HasSubstr("not supported"));
}

// --- evaluator ----------------------------------------------------------------------------------

class PolicyEvalTest : public ::testing::Test {
 protected:
  // Decision for a one-rule policy "r" (no scope types).
  bool allows(const std::string& text, const Credentials& creds, const Target& target = {},
              std::vector<std::pair<std::string, std::string>> more = {}) {
    std::vector<RuleDefault> defaults = {{"r", text, {}, "", ""}};
    auto enforcer = Enforcer::create({}, defaults, more);
    EXPECT_TRUE(enforcer) << enforcer.error().message();
    if (!enforcer) return false;
    return (*enforcer)->enforce("r", target, creds) == Decision::kAllowed;
  }
  Credentials reader_{{"Reader"}, {{"project_id", "p1"}, {"user_id", "u1"}}};
};

TEST_F(PolicyEvalTest, Basics) {
  EXPECT_TRUE(allows("@", reader_));
  EXPECT_TRUE(allows("", reader_));
  EXPECT_FALSE(allows("!", reader_));
  EXPECT_TRUE(allows("not !", reader_));
  EXPECT_FALSE(allows("@ and !", reader_));
  EXPECT_TRUE(allows("! or @", reader_));
}

TEST_F(PolicyEvalTest, RolesAreCaseInsensitive) {
  EXPECT_TRUE(allows("role:reader", reader_));
  EXPECT_TRUE(allows("role:READER", reader_));
  EXPECT_FALSE(allows("role:admin", reader_));
  EXPECT_TRUE(allows("role:%(wanted)s", reader_, {{"wanted", "reader"}}));
  EXPECT_FALSE(allows("role:%(missing)s", reader_));
}

TEST_F(PolicyEvalTest, GenericChecksCompareCredentialsWithTheTarget) {
  EXPECT_TRUE(allows("project_id:%(project_id)s", reader_, {{"project_id", "p1"}}));
  EXPECT_FALSE(allows("project_id:%(project_id)s", reader_, {{"project_id", "p2"}}));
  EXPECT_FALSE(allows("project_id:%(project_id)s", reader_, {}));  // KeyError: False
  EXPECT_TRUE(allows("project_id:p1", reader_));                   // a literal match
  EXPECT_TRUE(allows("user_id:%(owner)s and project_id:p1", reader_, {{"owner", "u1"}}));
  EXPECT_FALSE(allows("domain_id:%(project_id)s", reader_, {{"project_id", "p1"}}));
  // None on both sides compares as "None", as str(None) does in oslo.
  Credentials noProject{{"reader"}, {{"project_id", std::nullopt}}};
  EXPECT_TRUE(allows("project_id:%(project_id)s", noProject, {{"project_id", std::nullopt}}));
  EXPECT_FALSE(allows("project_id:%(project_id)s", noProject, {{"project_id", "p1"}}));
  // Literals on the left: 'Member':%(role)s, True:%(enabled)s.
  EXPECT_TRUE(allows("'Member':%(role)s", reader_, {{"role", "Member"}}));
  EXPECT_TRUE(allows("True:%(enabled)s", reader_, {{"enabled", "True"}}));
  EXPECT_FALSE(allows("True:%(enabled)s", reader_, {{"enabled", "False"}}));
  // "roles" is a list: any element matches (case-sensitively, unlike role:).
  EXPECT_TRUE(allows("roles:Reader", reader_));
  EXPECT_FALSE(allows("roles:reader", reader_));
  // %% is a literal percent.
  EXPECT_TRUE(allows("user_id:u%%1", Credentials{{}, {{"user_id", "u%1"}}}));
}

TEST_F(PolicyEvalTest, RuleReferences) {
  EXPECT_TRUE(allows("rule:other", reader_, {}, {{"other", "role:reader"}}));
  EXPECT_FALSE(allows("rule:other", reader_, {}, {{"other", "role:admin"}}));
  EXPECT_FALSE(allows("rule:undefined", reader_));  // an undefined rule is False
  EXPECT_TRUE(allows("not rule:undefined", reader_));
}

TEST_F(PolicyEvalTest, CyclesAreRefusedUpFront) {
  std::vector<RuleDefault> defaults = {{"r", "rule:a", {}, "", ""}};
  auto enforcer = Enforcer::create({}, defaults, {{"a", "rule:b"}, {"b", "role:x or rule:a"}},
                                   "/etc/bwfloor/policy.yaml");
  ASSERT_FALSE(enforcer);
  EXPECT_THAT(enforcer.error().message(), HasSubstr("/etc/bwfloor/policy.yaml: rule 'a' refers "
                                                    "to itself: a -> b -> a"));
}

// --- deprecated rules, scope ----------------------------------------------------------------

Credentials projectAdmin() {
  return {{"admin", "member", "reader"}, {{"project_id", "p1"}, {"system_scope", std::nullopt}}};
}
Credentials systemReader() {
  return {{"reader"}, {{"project_id", std::nullopt}, {"system_scope", "all"}}};
}

Decision decide(const PolicyOptions& options, const std::string& rule, const Credentials& creds,
                const std::vector<std::pair<std::string, std::string>>& file = {},
                const Target& target = {}) {
  auto enforcer = Enforcer::create(options, placementDefaults(), file);
  EXPECT_TRUE(enforcer) << enforcer.error().message();
  return enforcer ? (*enforcer)->enforce(rule, target, creds) : Decision::kDenied;
}

TEST(PolicyRulesTest, DeprecatedRuleIsOredInUnlessNewDefaultsAreEnforced) {
  const PolicyOptions legacy{false, false};
  const PolicyOptions newDefaults{false, true};
  // system_admin_api = "role:admin and system_scope:all", deprecated "role:admin".
  auto enforcer = Enforcer::create(legacy, placementDefaults());
  ASSERT_TRUE(enforcer);
  EXPECT_EQ((*enforcer)->effectiveRule("system_admin_api")->toString(),
            "((role:admin and system_scope:all) or role:admin)");
  EXPECT_EQ(decide(legacy, "placement:resource_providers:create", projectAdmin()),
            Decision::kAllowed);
  EXPECT_EQ(decide(newDefaults, "placement:resource_providers:create", projectAdmin()),
            Decision::kDenied);
  // The policy file overriding the rule: no deprecated fallback.
  EXPECT_EQ(decide(legacy, "placement:resource_providers:create", projectAdmin(),
                   {{"system_admin_api", "role:admin and system_scope:all"}}),
            Decision::kDenied);
}

TEST(PolicyRulesTest, ScopeTypesDenyOnlyWithEnforceScope) {
  // resource_providers:list has scope_types ['system']; a project token is "project" scoped.
  EXPECT_EQ(decide({false, false}, "placement:resource_providers:list", projectAdmin()),
            Decision::kAllowed);
  EXPECT_EQ(decide({true, false}, "placement:resource_providers:list", projectAdmin()),
            Decision::kInvalidScope);
  EXPECT_EQ(decide({true, true}, "placement:resource_providers:list", systemReader()),
            Decision::kAllowed);
  // placement:usages allows both scopes; the project must be the caller's then.
  Credentials member{{"member", "reader"}, {{"project_id", "p1"}}};
  EXPECT_EQ(decide({true, true}, "placement:usages", member, {}, {{"project_id", "p1"}}),
            Decision::kAllowed);
  EXPECT_EQ(decide({true, true}, "placement:usages", member, {}, {{"project_id", "p2"}}),
            Decision::kDenied);
  EXPECT_EQ(decide({true, true}, "placement:usages", systemReader(), {}, {{"project_id", "p2"}}),
            Decision::kAllowed);
  // Scope comes from the registered rule, whatever the file makes its check string.
  EXPECT_EQ(decide({true, false}, "placement:traits:list", projectAdmin(),
                   {{"placement:traits:list", "@"}}),
            Decision::kInvalidScope);
  EXPECT_EQ(decide({false, false}, "placement:nonexistent", systemReader()), Decision::kDenied);
}

TEST(PolicyRulesTest, PolicyFileOverridesAndAddsRules) {
  Credentials observer{{"observer"}, {{"project_id", "p1"}}};
  const std::vector<std::pair<std::string, std::string>> file = {
      {"placement:resource_providers:list", "rule:observers or rule:system_reader_api"},
      {"observers", "role:observer"}};
  EXPECT_EQ(decide({}, "placement:resource_providers:list", observer), Decision::kDenied);
  EXPECT_EQ(decide({}, "placement:resource_providers:list", observer, file), Decision::kAllowed);
  EXPECT_EQ(decide({}, "placement:resource_providers:show", observer, file), Decision::kDenied);
  // The deprecated name overridden in the file stands for the new rule (oslo's upgrade path).
  // oslo's quirk: DeprecatedRule's name is literally "rule:admin_api"; a file rule of that name
  // replaces the new rules that carry it.
  EXPECT_EQ(decide({}, "system_reader_api", observer, {{"rule:admin_api", "role:observer"}}),
            Decision::kAllowed);
  EXPECT_EQ(decide({}, "system_reader_api", observer), Decision::kDenied);
}

// Placement 8.0's defaults against the personas keystone sends (implied roles flattened), for
// every rule and the four flag combinations. The letters are enforce_scope / enforce_new_defaults
// = FF, FT, TF, TT: A allowed, D denied, S InvalidScope. Cross-checked against the real
// oslo_policy 4.0.0 + placement.policies 8.0.0: /usr/bin/python3 oslo_policy_matrix.py (here)
// prints the same table.
struct Persona {
  const char* name;
  Credentials creds;
  const char* systemAdminRules;   // the rules whose default is rule:system_admin_api
  const char* systemReaderRules;  // rule:system_reader_api
  const char* ownUsages;          // placement:usages for the caller's project ("p1")
  const char* otherUsages;        // placement:usages for another project
};

std::vector<Persona> personas() {
  return {
      {"system admin",
       {{"admin", "member", "reader"}, {{"system_scope", "all"}}},
       "AAAA",
       "AAAA",
       "AAAA",
       "AAAA"},
      {"system reader", {{"reader"}, {{"system_scope", "all"}}}, "DDDD", "AAAA", "AAAA", "AAAA"},
      {"project admin",
       {{"admin", "member", "reader"}, {{"project_id", "p1"}}},
       "ADSS",
       "ADSS",
       "AAAA",
       "ADAD"},
      {"project member",
       {{"member", "reader"}, {{"project_id", "p1"}}},
       "DDSS",
       "DDSS",
       "AAAA",
       "DDDD"},
      {"project reader", {{"reader"}, {{"project_id", "p1"}}}, "DDSS", "DDSS", "AAAA", "DDDD"},
  };
}

char letter(Decision d) {
  return d == Decision::kAllowed ? 'A' : d == Decision::kDenied ? 'D' : 'S';
}

TEST(PolicyRulesTest, PersonaMatrixOverEveryPlacementRule) {
  int checked = 0;
  for (const Persona& persona : personas()) {
    for (const RuleDefault& rule : placementDefaults()) {
      if (rule.name.rfind("placement:", 0) != 0) continue;
      for (const bool own : {true, false}) {
        if (!own && rule.name != "placement:usages") continue;
        std::string got;
        for (const PolicyOptions options :
             {PolicyOptions{false, false}, PolicyOptions{false, true}, PolicyOptions{true, false},
              PolicyOptions{true, true}}) {
          Target target = {{"project_id", "p1"}};
          if (!own) target["project_id"] = "p2";
          got += letter(decide(options, rule.name, persona.creds, {}, target));
        }
        const char* want =
            rule.name == "placement:usages" ? (own ? persona.ownUsages : persona.otherUsages)
            : rule.checkString == "rule:system_admin_api" ? persona.systemAdminRules
                                                          : persona.systemReaderRules;
        EXPECT_EQ(got, want) << persona.name << " " << rule.name << (own ? "" : " (other)");
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 5 * 34);  // 33 rules + usages of another project
}

TEST(PolicyRulesTest, DefaultsAreRegisteredAsPlacementHasThem) {
  const auto& rules = placementDefaults();
  EXPECT_EQ(rules.size(), 38u);  // 5 generic + 33 placement:
  auto find = [&](const std::string& name) {
    return *std::find_if(rules.begin(), rules.end(),
                         [&](const RuleDefault& r) { return r.name == name; });
  };
  EXPECT_EQ(find("placement:usages").checkString, "rule:system_or_project_reader");
  EXPECT_EQ(find("placement:usages").scopeTypes, (std::vector<std::string>{"system", "project"}));
  EXPECT_EQ(find("placement:allocations:manage").checkString, "rule:system_admin_api");
  EXPECT_EQ(find("project_reader_api").checkString, "role:reader and project_id:%(project_id)s");
  EXPECT_EQ(find("project_reader_api").deprecatedCheckString, "role:admin");
}

// --- the policy file --------------------------------------------------------------------------

class PolicyFileTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  ~PolicyFileTest() override { ::unlink(path_.c_str()); }
  std::string path_ = ::testing::TempDir() + "policy_test_" + std::to_string(::getpid()) + "_" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml";
};

TEST_F(PolicyFileTest, YamlAndJsonMapsAreRead) {
  auto yaml =
      loadPolicyFile(write("# overrides\n\"placement:traits:list\": \"@\"\n"
                           "observers: role:observer\nx: ''\n"));
  ASSERT_TRUE(yaml) << yaml.error().message();
  ASSERT_EQ(yaml->size(), 3u);
  EXPECT_EQ((*yaml)[0], (std::pair<std::string, std::string>{"placement:traits:list", "@"}));
  EXPECT_EQ((*yaml)[1].second, "role:observer");
  EXPECT_EQ((*yaml)[2].second, "");
  auto json = loadPolicyFile(write(R"({"a": "role:x", "b": "rule:a"})"));
  ASSERT_TRUE(json) << json.error().message();
  EXPECT_EQ(json->size(), 2u);
  auto empty = loadPolicyFile(write(""));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(PolicyFileTest, ErrorsNameFileLineAndRule) {
  auto bad = loadPolicyFile(write("a: role:x\nb: role:x and\n"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            path_ + ":2: rule 'b': position 11: a check is missing at the end");
  auto null = loadPolicyFile(write("a: role:x\nb:\n"));
  ASSERT_FALSE(null);
  EXPECT_THAT(null.error().message(), HasSubstr(path_ + ":2: rule 'b' has no check string"));
  auto list = loadPolicyFile(write("a: [[role:x]]\n"));
  ASSERT_FALSE(list);
  EXPECT_THAT(list.error().message(), HasSubstr("the old list syntax is not supported"));
  auto notMap = loadPolicyFile(write("- a\n- b\n"));
  ASSERT_FALSE(notMap);
  EXPECT_THAT(notMap.error().message(), HasSubstr("a map of rule name -> check string"));
  auto notYaml = loadPolicyFile(write("{\"a\": \"role:x\"\n"));
  ASSERT_FALSE(notYaml);
  EXPECT_THAT(notYaml.error().message(), HasSubstr("not YAML"));
  auto missing = loadPolicyFile(path_ + ".absent");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(), HasSubstr("no such file"));
}

TEST_F(PolicyFileTest, LoadedPolicyOverridesTheDefault) {
  auto enforcer = loadPlacementPolicy({}, write("placement:traits:list: role:observer\n"));
  ASSERT_TRUE(enforcer) << enforcer.error().message();
  Credentials observer{{"observer"}, {{"project_id", "p1"}}};
  EXPECT_EQ((*enforcer)->enforce("placement:traits:list", {}, observer), Decision::kAllowed);
  EXPECT_EQ((*enforcer)->enforce("placement:traits:show", {}, observer), Decision::kDenied);
  auto cyclic =
      loadPlacementPolicy({}, write("system_reader_api: rule:system_or_project_reader\n"));
  ASSERT_FALSE(cyclic);
  EXPECT_THAT(cyclic.error().message(), HasSubstr(path_ + ": rule '"));
}

}  // namespace
}  // namespace bwfloor::placement::policy
