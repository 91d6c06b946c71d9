#include "placement/api/query_parsing.h"

#include <algorithm>
#include <charconv>

#include "placement/api/json_checks.h"
#include "placement/api/python_text.h"

namespace bwfloor::placement::query {
namespace {

std::vector<std::string> splitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string stripped(const std::string& s) {  // Python's str.strip() for ASCII whitespace
  size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

}  // namespace

// util.normalize_resources_qs_param: "RC:int(amount)" pairs split on ',' and ':' as Python
// splits them (amounts as int() reads them: " 1" and "+1" are 1); a class named twice keeps the
// last amount.
ApiResult<ResourceAmounts> parseResources(const std::string& text) {
  ResourceAmounts out;
  const std::string form =
      "Badly formed resources parameter. Expected resources query string parameter in form: "
      "?resources=VCPU:2,MEMORY_MB:1024. Got: ";
  if (stripped(text).empty()) return badRequest(form + "empty string.");
  for (const auto& part : splitComma(text)) {
    const size_t colon = part.find(':');
    if (colon == std::string::npos || part.find(':', colon + 1) != std::string::npos) {
      return badRequest(form + part + ".");
    }
    const std::string rc = part.substr(0, colon);
    const std::string amount = part.substr(colon + 1);
    const auto n = python::parseInt(amount);
    if (!n) {
      return badRequest("Requested resource " + rc +
                        " expected positive integer amount. Got: " + amount + ".");
    }
    if (*n < 1) {
      return badRequest("Requested resource " + rc +
                        " requires amount >= 1. Got: " + std::to_string(*n) + ".");
    }
    out[rc] = *n;
  }
  return out;
}

// util.normalize_traits_qs_param: the forms, then the version gates, with Placement's details.
ApiStatus parseRequired(const std::string& text, const Microversion& v, std::vector<SetTerm>& out) {
  const std::string bad = "Invalid query string parameters: ";
  if (text.rfind("in:", 0) == 0) {
    if (!v.atLeast(39)) {
      return badRequest(bad +
                        "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since "
                        "microversion 1.39. Got: " +
                        text);
    }
    SetTerm term;
    for (const auto& t : splitComma(text.substr(3))) term.anyOf.insert(stripped(t));
    if (term.anyOf.count("")) {
      return badRequest(bad +
                        "Expected 'required' parameter value of the form: "
                        "in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: " +
                        text);
    }
    if (std::any_of(term.anyOf.begin(), term.anyOf.end(),
                    [](const std::string& t) { return t[0] == '!'; })) {
      return badRequest(bad +
                        "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden "
                        "traits. Got: " +
                        text);
    }
    out.push_back(std::move(term));
    return ApiStatus::ok();
  }
  const bool allowForbidden = v.atLeast(22);
  std::vector<SetTerm> terms;
  for (const auto& part : splitComma(text)) {
    std::string t = stripped(part);
    bool forbidden = !t.empty() && t[0] == '!';
    t.erase(0, t.find_first_not_of('!'));  // quirk kept by Placement: "!!!FOO" is forbidden FOO
    if (t.empty()) {
      std::string detail = bad + "Expected 'required' parameter value of the form: ";
      detail += allowForbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC";
      detail += ". Got an empty trait in: ";
      return badRequest(detail + text);
    }
    terms.push_back(SetTerm{{t}, forbidden});
  }
  bool anyForbidden =
      std::any_of(terms.begin(), terms.end(), [](const SetTerm& t) { return t.forbidden; });
  if (anyForbidden && !allowForbidden) {
    return badRequest(bad +
                      "Expected 'required' parameter value of the form: "
                      "HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: " +
                      text);
  }
  out.insert(out.end(), terms.begin(), terms.end());
  return ApiStatus::ok();
}

// util.normalize_member_of_qs_param, then the forbidden form's version gate.
ApiStatus parseMemberOf(const std::string& text, const Microversion& v, std::vector<SetTerm>& out,
                        const std::string& suffix) {
  auto starts = [&](const char* prefix) { return text.rfind(prefix, 0) == 0; };
  if (text.find(',') != std::string::npos && !starts("in:") && !starts("!in:")) {
    return badRequest(
        "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword "
        "using the valid microversion. Got: " +
        text);
  }
  SetTerm term;
  term.forbidden = starts("!");
  size_t skip = starts("!in:") ? 4 : starts("!") ? 1 : starts("in:") ? 3 : 0;
  for (const auto& agg : splitComma(text.substr(skip))) {
    auto uuid = json_checks::normalizeUuid(agg);
    if (!uuid) {
      return badRequest(
          "Invalid query string parameters: Expected 'member_of' parameter to "
          "contain valid UUID(s). Got: " +
          agg);
    }
    term.anyOf.insert(*uuid);
  }
  if (term.forbidden && !v.atLeast(32)) {
    return badRequest("Forbidden member_of" + suffix +
                      " parameters are not supported in the specified microversion");
  }
  out.push_back(std::move(term));
  return ApiStatus::ok();
}

}  // namespace bwfloor::placement::query
