// The rule set as oslo.policy's Enforcer builds it (load_rules, _handle_deprecated_rule) and the
// checks as _checks.py evaluates them.

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "core/logging.h"
#include "placement/policy/policy.h"

namespace bwfloor::placement::policy {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string str(const Value& v) { return v ? *v : "None"; }

// Python's `match % target` for a dict: %(key)s -> str(target[key]), %% -> %. nullopt where
// Python raises (a missing key: the check is False, as oslo catches the KeyError).
std::optional<std::string> interpolate(const std::string& text, const Target& target) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    const size_t close = text.find(')', i);
    if (i + 1 >= text.size() || text[i + 1] != '(' || close == std::string::npos ||
        close + 1 >= text.size() || text[close + 1] != 's') {
      return std::nullopt;
    }
    auto it = target.find(text.substr(i + 2, close - i - 2));
    if (it == target.end()) return std::nullopt;
    out += str(it->second);
    i = close + 1;
  }
  return out;
}

// ast.literal_eval of a generic check's left side, for the literals policies use
// ('Member':%(role.name)s, True:%(enabled)s, 1:...): its str(), or nullopt for a credential name.
std::optional<std::string> literal(const std::string& key) {
  if (key.size() >= 2 && (key.front() == '\'' || key.front() == '"') && key.back() == key.front()) {
    return key.substr(1, key.size() - 2);
  }
  if (key == "True" || key == "False" || key == "None") return key;
  const bool digits = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  if (digits && (key.size() == 1 || key.front() != '0')) return key;
  return std::nullopt;
}

Check orOf(Check a, Check b) {
  Check out;
  out.kind = Check::Kind::kOr;
  out.children.push_back(std::move(a));
  out.children.push_back(std::move(b));
  return out;
}

void referencedRules(const Check& check, std::vector<std::string>& out) {
  if (check.kind == Check::Kind::kRule) out.push_back(check.match);
  for (const auto& child : check.children) referencedRules(child, out);
}

}  // namespace

Result<std::shared_ptr<const Enforcer>> Enforcer::create(
    const PolicyOptions& options, const std::vector<RuleDefault>& defaults,
    const std::vector<std::pair<std::string, std::string>>& fileRules, const std::string& source) {
  auto enforcer = std::make_shared<Enforcer>();
  enforcer->options_ = options;
  std::map<std::string, Check> file;
  for (const auto& [name, text] : fileRules) {
    auto parsed = parseCheckString(text, name);
    if (!parsed) {
      return makeError(ErrorCode::kInvalidArgument, source + ": " + parsed.error().message());
    }
    file[name] = std::move(*parsed);
  }
  for (const RuleDefault& d : defaults) {
    ASSIGN_OR_RETURN(Check check, parseCheckString(d.checkString, d.name));
    enforcer->scopeTypes_[d.name] = d.scopeTypes;
    if (file.count(d.name)) {
      enforcer->rules_[d.name] = file.at(d.name);
      continue;
    }
    if (!d.deprecatedName.empty()) {
      ASSIGN_OR_RETURN(Check deprecated,
                       parseCheckString(d.deprecatedCheckString, d.deprecatedName));
      // The file overrides the deprecated name: that rule stands for the new one (unless it is
      // the deprecated default itself, or just points at the new rule).
      auto old = file.find(d.deprecatedName);
      if (d.deprecatedName != d.name && old != file.end() &&
          old->second.toString() != deprecated.toString() &&
          old->second.toString() != "rule:" + d.name) {
        enforcer->rules_[d.name] = old->second;
        continue;
      }
      if (!options.enforceNewDefaults && d.deprecatedCheckString != d.checkString) {
        check = orOf(std::move(check), std::move(deprecated));
      }
    }
    enforcer->rules_[d.name] = std::move(check);
  }
  for (auto& [name, check] : file) enforcer->rules_.emplace(name, check);

  // oslo recurses without end on a cycle (a RecursionError per request); refuse it up front.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<Status(const std::string&, std::vector<std::string>&)> visit =
      [&](const std::string& name, std::vector<std::string>& path) -> Status {
    auto it = enforcer->rules_.find(name);
    if (it == enforcer->rules_.end() || state[name] == 2) return Status::ok();
    path.push_back(name);
    if (state[name] == 1) {
      std::string cycle;
      for (const auto& p : path) cycle += (cycle.empty() ? "" : " -> ") + p;
      return makeError(ErrorCode::kInvalidArgument,
                       source + ": rule '" + name + "' refers to itself: " + cycle);
    }
    state[name] = 1;
    std::vector<std::string> refs;
    referencedRules(it->second, refs);
    for (const auto& ref : refs) RETURN_IF_ERROR(visit(ref, path));
    state[name] = 2;
    path.pop_back();
    return Status::ok();
  };
  for (const auto& [name, check] : enforcer->rules_) {
    std::vector<std::string> path;
    RETURN_IF_ERROR(visit(name, path));
    std::vector<std::string> refs;
    referencedRules(check, refs);
    for (const auto& ref : refs) {
      if (!enforcer->rules_.count(ref)) {
        logger("placement")
            ->warn("policy rule={} refers to undefined rule={} (always false)", name, ref);
      }
    }
  }
  return std::shared_ptr<const Enforcer>(std::move(enforcer));
}

const Check* Enforcer::effectiveRule(const std::string& name) const {
  auto it = rules_.find(name);
  return it == rules_.end() ? nullptr : &it->second;
}

Decision Enforcer::enforce(const std::string& rule, const Target& target,
                           const Credentials& creds) const {
  auto scopes = scopeTypes_.find(rule);
  auto check = rules_.find(rule);
  if (scopes == scopeTypes_.end() || check == rules_.end()) {
    logger("placement")->error("policy rule={} is not registered", rule);
    return Decision::kDenied;
  }
  Credentials effective = creds;
  // policy.py: creds['system'] = creds['system_scope'] when it is set.
  auto system = creds.values.find("system_scope");
  const bool systemScoped =
      system != creds.values.end() && system->second && !system->second->empty();
  if (systemScoped) effective.values["system"] = system->second;
  if (!scopes->second.empty()) {
    auto domain = creds.values.find("domain_id");
    const std::string tokenScope =
        systemScoped                                                                   ? "system"
        : (domain != creds.values.end() && domain->second && !domain->second->empty()) ? "domain"
                                                                                       : "project";
    const auto& types = scopes->second;
    if (std::find(types.begin(), types.end(), tokenScope) == types.end()) {
      if (options_.enforceScope) return Decision::kInvalidScope;
      logger("placement")
          ->debug("policy rule={} failed scope check: token scope={}", rule, tokenScope);
    }
  }
  return evaluate(check->second, target, effective, 0) ? Decision::kAllowed : Decision::kDenied;
}

bool Enforcer::evaluate(const Check& check, const Target& target, const Credentials& creds,
                        int depth) const {
  switch (check.kind) {
    case Check::Kind::kTrue:
      return true;
    case Check::Kind::kFalse:
      return false;
    case Check::Kind::kNot:
      return !evaluate(check.children.front(), target, creds, depth);
    case Check::Kind::kAnd:
      return std::all_of(check.children.begin(), check.children.end(),
                         [&](const Check& c) { return evaluate(c, target, creds, depth); });
    case Check::Kind::kOr:
      return std::any_of(check.children.begin(), check.children.end(),
                         [&](const Check& c) { return evaluate(c, target, creds, depth); });
    case Check::Kind::kRule: {
      auto it = rules_.find(check.match);
      // create() refused cycles; the depth is a second guard.
      return it != rules_.end() && depth < 64 && evaluate(it->second, target, creds, depth + 1);
    }
    case Check::Kind::kRole: {
      auto match = interpolate(check.match, target);
      if (!match) return false;
      const std::string wanted = lower(*match);
      return std::any_of(creds.roles.begin(), creds.roles.end(),
                         [&](const std::string& r) { return lower(r) == wanted; });
    }
    case Check::Kind::kGeneric: {
      auto match = interpolate(check.match, target);
      if (!match) return false;
      if (auto value = literal(check.key)) return *match == *value;
      if (check.key == "roles") {
        return std::find(creds.roles.begin(), creds.roles.end(), *match) != creds.roles.end();
      }
      auto it = creds.values.find(check.key);
      return it != creds.values.end() && *match == str(it->second);
    }
  }
  return false;
}

}  // namespace bwfloor::placement::policy
