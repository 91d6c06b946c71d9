#pragma once
// Placement's policy, as oslo.policy evaluates it (oslo_policy/_parser.py, _checks.py, policy.py).
//
//   check string   "role:admin and system_scope:all", "rule:NAME", "project_id:%(project_id)s",
//                  "@" (always), "!" (never), "" (always), and / or / not, parentheses;
//                  precedence not > and > or; and / or / not in any case.
//   rules          Placement 8.0's defaults (placementDefaults()), then the policy file's rules
//                  (a YAML / JSON map name -> check string): a file rule replaces the default of
//                  that name, unknown names are kept (rule:NAME may use them).
//   deprecated     a default with a deprecated rule that the file does not override is
//                  "new OR deprecated" unless enforce_new_defaults (policy.py
//                  _handle_deprecated_rule).
//   scope          a rule with scope_types checked directly: the token's scope is "system" when
//                  the credentials carry a system_scope, else "project". Not in scope_types ->
//                  kInvalidScope with enforce_scope, a warning (and the check goes on) without.
//
// Unlike oslo (which logs and fails the rule closed), a check string that does not parse is an
// error at start-up naming the rule and the position: an operator's typo never silently locks
// everyone out, or in.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace bwfloor::placement::policy {

// One node of a parsed check string.
struct Check {
  enum class Kind { kTrue, kFalse, kRule, kRole, kGeneric, kAnd, kOr, kNot };
  Kind kind = Kind::kTrue;
  std::string key;    // kGeneric: the credential (or literal) on the left of ':'
  std::string match;  // kRule: rule name; kRole / kGeneric: right of ':' (may hold %(name)s)
  std::vector<Check> children;  // kAnd / kOr: two or more; kNot: one

  // The check string oslo would print for it (canonical: parenthesised, lower-case operators).
  std::string toString() const;
};

// Parses a check string. An error (kInvalidArgument) reads
// "rule 'NAME': position N: what is wrong" (N counts characters from 1).
Result<Check> parseCheckString(std::string_view text, std::string_view ruleName);

// Python's None is std::nullopt; it compares as the text "None", as str(None) does in oslo.
using Value = std::optional<std::string>;

// Who is calling (oslo_context's to_policy_values). `values` holds the scalar credentials:
// user_id, project_id, system_scope, ...; a key absent here makes a check on it fail.
struct Credentials {
  std::vector<std::string> roles;
  std::map<std::string, Value> values;
};

// What the action is on (e.g. {"project_id": the project of GET /usages}).
using Target = std::map<std::string, Value>;

struct RuleDefault {
  std::string name;
  std::string checkString;
  std::vector<std::string> scopeTypes;  // empty: no scope check
  // DeprecatedRule: its name and check string (empty name: none).
  std::string deprecatedName;
  std::string deprecatedCheckString;
};

// Placement 8.0's rules (placement/policies/*.py), in its registration order.
const std::vector<RuleDefault>& placementDefaults();

struct PolicyOptions {
  bool enforceScope = false;        // [oslo_policy] enforce_scope (False in Placement 8.0)
  bool enforceNewDefaults = false;  // [oslo_policy] enforce_new_defaults (False in 8.0)
};

enum class Decision { kAllowed, kDenied, kInvalidScope };

class Enforcer {
 public:
  // `fileRules`: the policy file's rules (name -> check string), `source` names the file in
  // errors. Fails on a check string that does not parse and on rules that reference each other
  // in a cycle.
  static Result<std::shared_ptr<const Enforcer>> create(
      const PolicyOptions& options, const std::vector<RuleDefault>& defaults,
      const std::vector<std::pair<std::string, std::string>>& fileRules = {},
      const std::string& source = "policy file");

  // Enforcer::authorize for a registered rule; an unregistered one is kDenied (and logged).
  Decision enforce(const std::string& rule, const Target& target, const Credentials& creds) const;
  // The rule as it is evaluated (after the file and the deprecated-rule handling), or nullptr.
  const Check* effectiveRule(const std::string& name) const;

 private:
  bool evaluate(const Check& check, const Target& target, const Credentials& creds,
                int depth) const;

  PolicyOptions options_;
  std::map<std::string, Check> rules_;
  std::map<std::string, std::vector<std::string>> scopeTypes_;  // registered rules only
};

// Reads a policy file (oslo's format: a YAML or JSON map of rule name -> check string) into
// name -> check string, in file order. Errors name the file, the line and the rule.
Result<std::vector<std::pair<std::string, std::string>>> loadPolicyFile(const std::string& path);

// The enforcer bwfloor-server runs with: Placement's defaults, the file if `policyFile` is set.
Result<std::shared_ptr<const Enforcer>> loadPlacementPolicy(const PolicyOptions& options,
                                                            const std::string& policyFile);

}  // namespace bwfloor::placement::policy
