// GET /allocation_candidates: query grammar per microversion (placement-api.md §1.5), validated
// in Placement's order (query schema, request-wide parameters, groups, group_policy, names), and
// the response shapes, written straight to text (an answer can describe tens of thousands of
// providers); the search itself is placement/candidates.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <mutex>

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"
#include "placement/api/query_parsing.h"
#include "placement/candidates/candidates.h"
#include "placement/candidates/group_candidates.h"

namespace bwfloor::placement::handlers {

namespace {

struct ParsedQuery {
  CandidateRequest request;
  std::set<std::string> requestedClasses;
};

// Python's str.strip() for ASCII whitespace.
std::string stripped(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n\r\f\v") - b + 1);
}

ApiError invalidQuery(const std::string& why) {
  return badRequest("Invalid query string parameters: " + why);
}
ApiError badValue(const std::string& detail) {
  return {Errc::kInvalid, detail, "placement.query.bad_value"};
}

// "[1-9][0-9]*": a limit, or a group suffix before 1.33.
bool isNumber(std::string_view s) {
  return !s.empty() && s[0] >= '1' && s[0] <= '9' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "[a-zA-Z0-9_-]{1,64}": a group suffix from 1.33.
bool isSuffix(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// Splits a group key ("resources", "required_NIC1", ...) into base and suffix. Suffixes exist
// from 1.25 (numbers) and 1.33 (strings); in_tree from 1.31; required 1.17; member_of 1.21.
bool groupKey(const std::string& key, const Microversion& v, std::string& base,
              std::string& suffix) {
  for (const char* name : {"resources", "required", "member_of", "in_tree"}) {
    std::string_view b(name);
    if (key.compare(0, b.size(), b) != 0) continue;
    std::string_view rest = std::string_view(key).substr(b.size());
    if (!rest.empty() && (!v.atLeast(25) || !(v.atLeast(33) ? isSuffix(rest) : isNumber(rest)))) {
      continue;
    }
    base = b;
    suffix = rest;
    return base == "resources" || (base == "required" && v.atLeast(17)) ||
           (base == "member_of" && v.atLeast(21)) || (base == "in_tree" && v.atLeast(31));
  }
  return false;
}

std::vector<std::string> splitStripped(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The query schema of the version: known keys, limit and group_policy values, `resources`
// required before 1.25.
ApiStatus checkSchema(const RequestContext& ctx) {
  const Microversion& v = ctx.version;
  bool resources = false;
  for (const auto& [key, value] : ctx.query) {
    std::string base;
    std::string suffix;
    bool wide = (key == "limit" && v.atLeast(16)) || (key == "group_policy" && v.atLeast(25)) ||
                (key == "root_required" && v.atLeast(35)) ||
                (key == "same_subtree" && v.atLeast(36));
    if (!wide && !groupKey(key, v, base, suffix)) {
      return invalidQuery("Additional properties are not allowed ('" + key + "' was unexpected)");
    }
    resources |= key == "resources";
    if (key == "limit" && !isNumber(value)) {
      return invalidQuery("'" + value + "' does not match '^[1-9][0-9]*$'");
    }
    if (key == "group_policy" && value != "none" && value != "isolate") {
      return invalidQuery("'" + value + "' is not one of ['none', 'isolate']");
    }
  }
  if (!v.atLeast(25) && !resources) return invalidQuery("'resources' is a required property");
  return ApiStatus::ok();
}

// root_required (1.35): one value, no in: form, no trait both required and forbidden.
ApiStatus parseRootRequired(const std::string& value, std::vector<SetTerm>& out) {
  if (value.rfind("in:", 0) == 0) {
    return invalidQuery(
        "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. "
        "Got: " +
        value);
  }
  std::set<std::string> required;
  std::set<std::string> forbidden;
  for (auto t : splitStripped(value)) {
    bool no = !t.empty() && t[0] == '!';
    t.erase(0, t.find_first_not_of('!'));  // "!!!FOO" is forbidden FOO
    if (t.empty()) {
      return invalidQuery(
          "Expected 'required' parameter value of the form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got "
          "an empty trait in: " +
          value);
    }
    (no ? forbidden : required).insert(t);
  }
  std::string conflicts;
  for (const auto& t : required) {
    if (forbidden.count(t)) conflicts += (conflicts.empty() ? "" : ", ") + t;
  }
  if (!conflicts.empty()) {
    return badValue("Conflicting required and forbidden traits found in root_required: " +
                    conflicts);
  }
  for (const auto& t : required) out.push_back(SetTerm{{t}, false});
  for (const auto& t : forbidden) out.push_back(SetTerm{{t}, true});
  return ApiStatus::ok();
}

// limit, group_policy, root_required, same_subtree (lib.RequestWideParams.from_request).
ApiStatus parseRequestWide(const RequestContext& ctx, CandidateRequest& req, bool& groupPolicySet) {
  int rootRequired = 0;
  bool limitSeen = false;
  for (const auto& [key, value] : ctx.query) {
    if (key == "limit" && !limitSeen) {  // the first one counts
      limitSeen = true;
      size_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      req.limit = ec == std::errc() ? n : SIZE_MAX;
    } else if (key == "group_policy" && !groupPolicySet) {
      groupPolicySet = true;
      req.isolate = value == "isolate";
    } else if (key == "root_required" && ++rootRequired > 1) {
      return ApiError{Errc::kInvalid, "Query parameter 'root_required' may be specified only once.",
                      "placement.query.duplicate_key"};
    }
  }
  for (const auto& [key, value] : ctx.query) {
    if (key == "root_required") RETURN_IF_ERROR(parseRootRequired(value, req.rootRequired));
    if (key != "same_subtree") continue;
    std::vector<std::string> set;
    for (auto& s : splitStripped(value)) {
      if (s.empty()) {
        return badValue("Empty string (unsuffixed group) can not be specified in `same_subtree` ");
      }
      if (std::find(set.begin(), set.end(), s) == set.end()) set.push_back(std::move(s));
    }
    req.sameSubtree.push_back(std::move(set));
  }
  return ApiStatus::ok();
}

std::string pyList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}

// 1.36+: at least one group with resources; resourceless groups only inside a same_subtree;
// same_subtree names only groups of the request.
ApiStatus checkResourcelessGroups(const std::vector<std::pair<std::string, RequestGroup>>& groups,
                                  const CandidateRequest& req) {
  std::set<std::string> inSubtree;
  for (const auto& set : req.sameSubtree) inSubtree.insert(set.begin(), set.end());
  size_t resourceless = 0;
  std::vector<std::string> bad;
  for (const auto& [suffix, g] : groups) {
    if (!g.resources.empty()) continue;
    ++resourceless;
    if (!inSubtree.count(suffix)) bad.push_back(suffix);
  }
  if (resourceless == groups.size()) {
    return ApiError{Errc::kInvalid,
                    "There must be at least one resources or resources[$S] parameter.",
                    "placement.query.missing_value"};
  }
  if (!bad.empty()) {
    return badValue(
        "Resourceless suffixed group request should be specified in `same_subtree` query "
        "param: bad group(s) - " +
        pyList(bad) + ".");
  }
  std::vector<std::string> missing;
  std::vector<std::string> all;
  all.reserve(groups.size());
  for (const auto& [suffix, g] : groups) all.push_back(suffix);
  for (const auto& s : inSubtree) {
    if (std::find(all.begin(), all.end(), s) == all.end()) missing.push_back(s);
  }
  if (!missing.empty()) {
    return badValue("Real suffixes should be specified in `same_subtree`: " + pyList(missing) +
                    " not found in " + pyList(all) + ".");
  }
  return ApiStatus::ok();
}

// Before 1.36 every group needs resources (lib.RequestGroup._check_for_orphans).
ApiStatus checkOrphans(const std::vector<std::pair<std::string, RequestGroup>>& groups) {
  std::string traits;
  std::string aggregates;
  bool resourceless = false;
  for (const auto& [suffix, g] : groups) {
    if (!g.resources.empty()) continue;
    resourceless = true;
    bool required = std::any_of(g.traits.begin(), g.traits.end(),
                                [](const SetTerm& t) { return !t.forbidden; });
    if (required) traits += (traits.empty() ? "required" : ", required") + suffix;
    if (!g.memberOf.empty()) {
      aggregates += (aggregates.empty() ? "member_of" : ", member_of") + suffix;
    }
  }
  if (!traits.empty()) {
    return badRequest(
        "All traits parameters must be associated with resources.  Found the following "
        "orphaned traits keys: " +
        traits);
  }
  if (!aggregates.empty()) {
    return badRequest(
        "All member_of parameters must be associated with resources. Found the following "
        "orphaned member_of keys: " +
        aggregates);
  }
  if (resourceless) return badRequest("All request groups must specify resources.");
  if (groups.empty()) {
    return badRequest("At least one request group (`resources` or `resources{$S}`) is required.");
  }
  return ApiStatus::ok();
}

// lib.RequestGroup._check_forbidden: a required term whose every trait the group forbids.
ApiStatus checkConflictingTraits(const std::vector<std::pair<std::string, RequestGroup>>& groups) {
  std::vector<std::string> conflicts;
  for (const auto& [suffix, g] : groups) {
    std::set<std::string> forbidden;
    for (const auto& t : g.traits) {
      if (t.forbidden) forbidden.insert(t.anyOf.begin(), t.anyOf.end());
    }
    for (const auto& t : g.traits) {
      if (t.forbidden || !std::all_of(t.anyOf.begin(), t.anyOf.end(), [&](const std::string& x) {
            return forbidden.count(x) > 0;
          })) {
        continue;
      }
      std::string key = "required" + suffix + ": (";
      for (const auto& x : t.anyOf) {
        if (key.back() != '(') key += ", ";
        key += x;
      }
      conflicts.push_back(key + ")");
    }
  }
  if (conflicts.empty()) return ApiStatus::ok();
  std::sort(conflicts.begin(), conflicts.end());
  std::string all;
  for (const auto& c : conflicts) all += (all.empty() ? "" : ", ") + c;
  return badRequest(
      "Conflicting required and forbidden traits found in the following traits keys: " + all);
}

ApiResult<ParsedQuery> parseQuery(const PlacementModel& model, const RequestContext& ctx,
                                  bool randomize) {
  const Microversion& v = ctx.version;
  RETURN_IF_ERROR(checkSchema(ctx));
  ParsedQuery out;
  bool groupPolicySet = false;
  RETURN_IF_ERROR(parseRequestWide(ctx, out.request, groupPolicySet));

  std::vector<std::pair<std::string, RequestGroup>> groups;  // in the order of the query
  std::map<std::string, int> memberOfCount;
  for (const auto& [key, value] : ctx.query) {
    std::string base;
    std::string suffix;
    if (!groupKey(key, v, base, suffix)) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& sg) { return sg.first == suffix; });
    if (it == groups.end()) {
      groups.emplace_back(suffix, RequestGroup{});
      it = groups.end() - 1;
      it->second.suffix = suffix;
    }
    RequestGroup& g = it->second;
    if (base == "resources") {
      ASSIGN_OR_RETURN(g.resources, query::parseResources(value));
    } else if (base == "required") {
      if (!v.atLeast(39)) g.traits.clear();  // before 1.39 the last one counts
      RETURN_IF_ERROR(query::parseRequired(value, v, g.traits));
    } else if (base == "member_of") {
      if (++memberOfCount[suffix] > 1 && !v.atLeast(24)) {
        return badRequest("Multiple member_of" + suffix + " parameters are not supported");
      }
      RETURN_IF_ERROR(query::parseMemberOf(value, v, g.memberOf, suffix));
    } else if (base == "in_tree") {
      // util.normalize_in_tree_qs_params: stripped, then uuid-like.
      auto uuid = json_checks::normalizeUuid(stripped(value));
      if (!uuid) {
        return badRequest(
            "Invalid query string parameters: Expected 'in_tree' parameter to be a "
            "format of uuid. Got: " +
            value);
      }
      g.inTree = *uuid;
    }
  }
  RETURN_IF_ERROR(v.atLeast(36) ? checkResourcelessGroups(groups, out.request)
                                : checkOrphans(groups));
  RETURN_IF_ERROR(checkConflictingTraits(groups));
  size_t suffixed =
      std::count_if(groups.begin(), groups.end(), [](const auto& sg) { return !sg.first.empty(); });
  if (suffixed > 1 && !groupPolicySet) {
    return badRequest(
        "The \"group_policy\" parameter is required when specifying more than one "
        "\"resources{N}\" parameter.");
  }
  // Unknown names: root_required first, then each group's classes and traits.
  for (const auto& term : out.request.rootRequired) {
    for (const auto& t : term.anyOf) {
      if (!model.traitExists(t)) return badRequest("No such trait(s): " + t + ".");
    }
  }
  for (const auto& [suffix, g] : groups) {
    for (const auto& [rc, n] : g.resources) {
      if (!model.resourceClassExists(rc)) {
        return badRequest("Invalid resource class in resources parameter: No such resource class " +
                          rc + ".");
      }
      out.requestedClasses.insert(rc);
    }
    for (const auto& term : g.traits) {
      for (const auto& t : term.anyOf) {
        if (!model.traitExists(t)) return badRequest("No such trait(s): " + t + ".");
      }
    }
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [suffix, g] : groups) out.request.groups.push_back(std::move(g));
  out.request.nestedAware = v.atLeast(29);
  out.request.randomize = randomize;
  return out;
}

// Appends JSON text to a string sized up front (an answer can be tens of MB: no second copy).
// Every string written is a validated name (uuid, resource class, trait, group suffix: letters,
// digits, '_' and '-'), so none needs escaping.
class JsonText {
 public:
  explicit JsonText(size_t estimate) { buf_.resize(estimate); }
  template <size_t N>
  JsonText& raw(const char (&literal)[N]) {  // NOLINT(modernize-avoid-c-arrays): a literal
    std::memcpy(room(N - 1), literal, N - 1);
    used_ += N - 1;
    return *this;
  }
  JsonText& comma(bool first) { return first ? *this : raw(","); }
  JsonText& name(std::string_view x) {
    char* out = room(x.size() + 2);
    out[0] = '"';
    std::memcpy(out + 1, x.data(), x.size());
    out[x.size() + 1] = '"';
    used_ += x.size() + 2;
    return *this;
  }
  JsonText& text(std::string_view x) {
    std::memcpy(room(x.size()), x.data(), x.size());
    used_ += x.size();
    return *this;
  }
  JsonText& num(int64_t n) {
    char* out = room(24);
    used_ += std::to_chars(out, out + 24, n).ptr - out;
    return *this;
  }
  std::string take() {
    buf_.resize(used_);
    return std::move(buf_);
  }

 private:
  char* room(size_t n) {
    if (used_ + n > buf_.size()) buf_.resize(std::max(buf_.size() * 2, used_ + n));
    return buf_.data() + used_;
  }
  std::string buf_;  // [0, used_) written
  size_t used_ = 0;
};

void writeRequest(JsonText& out, const Microversion& v, const CandidateRequest& request,
                  const CandidateSet& set, const CandidateSet::Item& item) {
  // allocs are sorted by provider: one object per run of the same provider.
  auto eachProvider = [&](auto&& fn) {
    for (uint32_t a = item.allocBegin; a < item.allocEnd;) {
      uint32_t end = a;
      while (end < item.allocEnd && set.allocs[end].provider == set.allocs[a].provider) ++end;
      fn(*set.allocs[a].provider, a, end, a == item.allocBegin);
      a = end;
    }
  };
  auto resources = [&](uint32_t begin, uint32_t end) {
    out.raw("{");
    for (uint32_t a = begin; a < end; ++a) {
      out.comma(a == begin).name(set.classes[set.allocs[a].rc]).raw(":");
      out.num(set.allocs[a].amount);
    }
    out.raw("}");
  };
  if (!v.atLeast(12)) {
    out.raw(R"({"allocations":[)");
    eachProvider([&](const Provider& p, uint32_t begin, uint32_t end, bool first) {
      out.comma(first).raw(R"({"resource_provider":{"uuid":)");
      out.name(p.uuid).raw(R"(},"resources":)");
      resources(begin, end);
      out.raw("}");
    });
    out.raw("]}");
    return;
  }
  out.raw(R"({"allocations":{)");
  eachProvider([&](const Provider& p, uint32_t begin, uint32_t end, bool first) {
    out.comma(first).name(p.uuid).raw(R"(:{"resources":)");
    resources(begin, end);
    out.raw("}");
  });
  out.raw("}");
  if (v.atLeast(34)) {
    out.raw(R"(,"mappings":{)");
    int group = -1;
    for (uint32_t m = item.mappingBegin; m < item.mappingEnd; ++m) {
      const auto& mp = set.mappings[m];
      if (mp.group != group) {
        if (group >= 0) out.raw("],");
        out.name(request.groups[mp.group].suffix).raw(":[");
      } else {
        out.raw(",");
      }
      out.name(mp.provider->uuid);
      group = mp.group;
    }
    if (group >= 0) out.raw("]");
    out.raw("}");
  }
  out.raw("}");
}

void writeSummary(JsonText& out, const Microversion& v, const Provider& p,
                  const std::set<std::string>& requested) {
  const ResourceAmounts* used = p.usage;
  out.name(p.uuid).raw(R"(:{"resources":{)");
  bool first = true;
  for (const auto& [rc, inv] : p.inventories) {
    if (!v.atLeast(27) && !requested.count(rc)) continue;
    int64_t u = 0;
    if (used) {
      if (auto it = used->find(rc); it != used->end()) u = it->second;
    }
    out.comma(first).name(rc).raw(R"(:{"capacity":)").num(inv.capacity());
    out.raw(R"(,"used":)").num(u).raw("}");
    first = false;
  }
  out.raw("}");
  if (v.atLeast(17)) {
    out.raw(R"(,"traits":[)");
    first = true;
    for (const auto& t : p.traits) {
      out.comma(first).name(t);
      first = false;
    }
    out.raw("]");
  }
  if (v.atLeast(29)) {
    out.raw(R"(,"parent_provider_uuid":)");
    if (p.parentUuid.empty()) {
      out.raw("null");
    } else {
      out.name(p.parentUuid);
    }
    out.raw(R"(,"root_provider_uuid":)").name(p.rootUuid);
  }
  out.raw("}");
}

// provider_summaries entries as text, by provider node, for as long as the node's revision
// stands (a new one comes with any change of its inventories, traits, parent, root or usage):
// an answer can describe thousands of providers that rarely change between two requests. Only
// from 1.27, where a summary lists every class (before, it depends on the request). Process-wide
// (revisions are unique in the process), bounded in bytes (the N=10000 benchmark must stay under
// 200 MB RSS: past the budget, summaries are written uncached); a request that finds it busy
// writes its summaries itself rather than wait.
class SummaryCache {
 public:
  void write(JsonText& out, const Microversion& v, const PlacementModel& m,
             const std::vector<const Provider*>& providers,
             const std::set<std::string>& requested) {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!v.atLeast(27) || !lock.try_lock()) {
      writeAll(out, v, providers, requested);
      return;
    }
    // Nodes of deleted providers stay behind: drop everything once they could dominate.
    if (entries_.size() > 2 * m.providersUnlocked().size() + 1024) clear();
    bool nested = v.atLeast(29);
    for (size_t i = 0; i < providers.size(); ++i) {
      if (i) out.raw(",");
      const Provider& p = *providers[i];
      const uint32_t* at = index_.find(&p);
      if (at && entries_[*at].revision == p.revision && entries_[*at].nested == nested) {
        out.text(entries_[*at].text);
        continue;
      }
      JsonText one(512);
      writeSummary(one, v, p, requested);
      std::string text = one.take();
      out.text(text);
      store(at, p, nested, std::move(text));
    }
  }

  static SummaryCache& instance() {
    static SummaryCache cache;
    return cache;
  }

 private:
  struct Entry {
    uint64_t revision;
    bool nested;  // the 1.29 shape (parent and root uuids)
    std::string text;
  };
  static constexpr size_t kEntryOverhead = 64;   // entry, index slots, allocation header
  static constexpr size_t kBudget = 16u << 20u;  // bytes: N=1000 hosts take 3 MB

  static void writeAll(JsonText& out, const Microversion& v,
                       const std::vector<const Provider*>& providers,
                       const std::set<std::string>& requested) {
    for (size_t i = 0; i < providers.size(); ++i) {
      if (i) out.raw(",");
      writeSummary(out, v, *providers[i], requested);
    }
  }
  void store(const uint32_t* at, const Provider& p, bool nested, std::string text) {
    if (at) {
      bytes_ -= entries_[*at].text.size();
      bytes_ += text.size();
      entries_[*at] = {p.revision, nested, std::move(text)};
      return;
    }
    if (bytes_ + text.size() + kEntryOverhead > kBudget) return;
    bytes_ += text.size() + kEntryOverhead;
    index_.insert(&p, static_cast<uint32_t>(entries_.size()));
    entries_.push_back({p.revision, nested, std::move(text)});
  }
  void clear() {
    index_.clear();
    entries_.clear();
    bytes_ = 0;
  }

  std::mutex mutex_;
  candidates::PtrMap<uint32_t> index_;  // provider node -> entries_ (flat: no node per entry)
  std::vector<Entry> entries_;
  size_t bytes_ = 0;
};

}  // namespace

http::Response allocationCandidates(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  // The newest of Placement's query schemas at or below the request's version.
  static constexpr int kSchemaVersions[] = {36, 35, 33, 31, 25, 21, 17, 16, 10};
  for (int minor : kSchemaVersions) {
    if (!ctx.version.atLeast(minor)) continue;
    const std::string name = "allocation_candidate.GET_SCHEMA_1_" + std::to_string(minor);
    if (auto st = json_checks::validateQuery(ctx, name); !st) return errorResponse(ctx, st.error());
    break;
  }
  auto parsed = parseQuery(model, ctx, ctx.randomizeCandidates);
  if (!parsed) return errorResponse(ctx, parsed.error());
  // Whether any provider shares via an aggregate, from the trait's use count (read just before
  // the search: a request racing with the very first MISC_SHARES_VIA_AGGREGATE association is
  // answered as if it came just before that write).
  parsed->request.sharingPossible =
      !model.listTraits([](const std::string& t) { return t == "MISC_SHARES_VIA_AGGREGATE"; }, true)
           .empty();
  std::string body;
  model.withReadLock([&](const PlacementModel& m) {
    CandidateSet set = findCandidateSet(m, parsed->request);
    JsonText out(64 + 256 * set.items.size() + 448 * set.summaryProviders.size());
    out.raw(R"({"allocation_requests":[)");
    for (size_t i = 0; i < set.items.size(); ++i) {
      if (i) out.raw(",");
      writeRequest(out, ctx.version, parsed->request, set, set.items[i]);
    }
    out.raw(R"(],"provider_summaries":{)");
    SummaryCache::instance().write(out, ctx.version, m, set.summaryProviders,
                                   parsed->requestedClasses);
    out.raw("}}");
    body = out.take();
  });
  http::Response resp = jsonResponse(ctx, 200, nlohmann::json::object(), std::time(nullptr));
  resp.body = std::move(body);
  return resp;
}

}  // namespace bwfloor::placement::handlers
