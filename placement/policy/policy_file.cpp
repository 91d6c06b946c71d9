// oslo.policy's policy file: YAML (JSON is YAML too), a map of rule name -> check string.
// yaml-cpp's exceptions stay in this file.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "placement/policy/policy.h"

namespace bwfloor::placement::policy {
namespace {

Error fileError(const std::string& path, const YAML::Mark& mark, const std::string& why) {
  std::string where = path;
  if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
  return makeError(ErrorCode::kInvalidArgument, where + ": " + why);
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> loadPolicyFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return makeError(ErrorCode::kInvalidArgument,
                     path + ": [oslo_policy] policy_file: no such file");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return fileError(path, e.mark, "not YAML: " + e.msg);
  }
  std::vector<std::pair<std::string, std::string>> rules;
  if (root.IsNull()) return rules;  // an empty file: the defaults
  if (!root.IsMap()) {
    return fileError(path, root.Mark(), "a policy file is a map of rule name -> check string");
  }
  for (const auto& item : root) {
    if (!item.first.IsScalar()) {
      return fileError(path, item.first.Mark(), "a rule name must be a string");
    }
    const std::string name = item.first.Scalar();
    const YAML::Node& value = item.second;
    if (value.IsNull()) {
      // oslo reads a null as the old list syntax's empty list: always allowed. Too easy to
      // write by accident to mean that.
      return fileError(path, item.first.Mark(),
                       "rule '" + name +
                           "' has no check string; write \"\" (anyone) or \"!\" "
                           "(no one)");
    }
    if (!value.IsScalar()) {
      return fileError(path, item.first.Mark(),
                       "rule '" + name +
                           "': the check string must be a string (the old list "
                           "syntax is not supported)");
    }
    auto parsed = parseCheckString(value.Scalar(), name);
    if (!parsed) return fileError(path, item.first.Mark(), parsed.error().message());
    auto same =
        std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.first == name; });
    if (same != rules.end()) {
      same->second = value.Scalar();  // PyYAML: the later one wins
    } else {
      rules.emplace_back(name, value.Scalar());
    }
  }
  return rules;
}

Result<std::shared_ptr<const Enforcer>> loadPlacementPolicy(const PolicyOptions& options,
                                                            const std::string& policyFile) {
  std::vector<std::pair<std::string, std::string>> rules;
  if (!policyFile.empty()) {
    ASSIGN_OR_RETURN(rules, loadPolicyFile(policyFile));
  }
  return Enforcer::create(options, placementDefaults(), rules,
                          policyFile.empty() ? "defaults" : policyFile);
}

}  // namespace bwfloor::placement::policy
