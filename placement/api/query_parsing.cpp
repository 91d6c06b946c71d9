#include "placement/api/query_parsing.h"

#include <charconv>

#include "placement/api/json_checks.h"

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

}  // namespace

ApiResult<ResourceAmounts> parseResources(const std::string& text) {
  ResourceAmounts out;
  auto bad = [&] {
    return badRequest(
        "Badly formed resources parameter. Expected resources query string parameter in form: "
        "?resources=VCPU:2,MEMORY_MB:1024. Got: " +
        text);
  };
  if (text.empty()) return bad();
  for (const auto& part : splitComma(text)) {
    size_t colon = part.find(':');
    if (colon == std::string::npos || colon == 0) return bad();
    std::string rc = part.substr(0, colon);
    std::string amount = part.substr(colon + 1);
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), n);
    if (ec != std::errc() || ptr != amount.data() + amount.size()) return bad();
    if (n < 1) {
      return badRequest("Requested resource " + rc +
                        " expected positive integer amount. Got: " + amount + ".");
    }
    if (out.count(rc)) {
      return badRequest("Resource " + rc + " specified more than once in resources parameter.");
    }
    out[rc] = n;
  }
  return out;
}

ApiStatus parseRequired(const std::string& text, const Microversion& v, std::vector<SetTerm>& out) {
  if (text.empty()) {
    return badRequest(
        "Invalid query string parameters: Expected 'required' parameter value of "
        "the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty value.");
  }
  if (v.atLeast(39) && text.rfind("in:", 0) == 0) {
    SetTerm term;
    for (const auto& t : splitComma(text.substr(3))) {
      if (t.empty() || t[0] == '!') {
        return badRequest(
            "Invalid query string parameters: Expected 'required' parameter value "
            "of the form: in:TRAIT1,TRAIT2. Got: " +
            text);
      }
      term.anyOf.insert(t);
    }
    out.push_back(std::move(term));
    return ApiStatus::ok();
  }
  for (auto t : splitComma(text)) {
    bool forbidden = false;
    if (v.atLeast(22)) {
      while (!t.empty() && t[0] == '!') {  // Placement quirk: "!!!FOO" is forbidden FOO
        forbidden = true;
        t.erase(0, 1);
      }
    }
    if (t.empty()) {
      return badRequest(
          "Invalid query string parameters: Expected 'required' parameter value of "
          "the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got: " +
          text);
    }
    out.push_back(SetTerm{{t}, forbidden});
  }
  // Required and forbidden at once is a contradiction Placement refuses.
  for (const auto& a : out) {
    for (const auto& b : out) {
      if (!a.forbidden && b.forbidden && a.anyOf.size() == 1 && a.anyOf == b.anyOf) {
        return badRequest(
            "Invalid query string parameters: Conflicting required and forbidden "
            "traits found in the following traits keys: " +
            *a.anyOf.begin());
      }
    }
  }
  return ApiStatus::ok();
}

ApiStatus parseMemberOf(const std::string& text, const Microversion& v, std::vector<SetTerm>& out) {
  std::string rest = text;
  SetTerm term;
  if (v.atLeast(32) && !rest.empty() && rest[0] == '!') {
    term.forbidden = true;
    rest.erase(0, 1);
  }
  bool in = rest.rfind("in:", 0) == 0;
  if (in) rest = rest.substr(3);
  for (const auto& agg : splitComma(rest)) {
    auto uuid = json_checks::normalizeUuid(agg);
    if (!uuid) {
      return badRequest(
          "Invalid query string parameters: Expected 'member_of' parameter to "
          "contain valid UUID(s). Got: " +
          agg);
    }
    term.anyOf.insert(*uuid);
  }
  if (!in && term.anyOf.size() > 1 && !term.forbidden) {
    return badRequest(
        "Invalid query string parameters: Expected 'member_of' parameter to "
        "contain valid UUID(s). Got: " +
        text);
  }
  if (term.forbidden && term.anyOf.size() > 1 && !in) {
    return badRequest(
        "Invalid query string parameters: Forbidden member_of with several "
        "aggregates needs the !in: prefix. Got: " +
        text);
  }
  out.push_back(std::move(term));
  return ApiStatus::ok();
}

}  // namespace bwfloor::placement::query
