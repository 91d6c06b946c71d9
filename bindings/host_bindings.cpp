#include "bindings/host_bindings.h"

#include <array>
#include <utility>

namespace bwfloor::bindings {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<BindingState, std::string_view>, 7> kStateNames = {{
    {BindingState::kUnbound, "unbound"},
    {BindingState::kPending, "pending"},
    {BindingState::kEnforced, "enforced"},
    {BindingState::kPlacementOnly, "placement-only"},
    {BindingState::kFailed, "failed"},
    {BindingState::kRemoved, "removed"},
    {BindingState::kOverCommitted, "over-committed"},
}};

// Placement's amounts are 32-bit; a rate beyond that is not one the server can have sent.
constexpr int64_t kMaxKbps = 2147483647;

Error fieldError(const std::string& where, const std::string& expected, const json& got) {
  return makeError(ErrorCode::kInvalidArgument,
                   where + ": expected " + expected + ", got " +
                       got.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Reads one field into typed values; the first problem is kept and reading goes on harmlessly.
class FieldReader {
 public:
  FieldReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  std::string text(const char* key, bool required) {
    const json* v = find(key, required);
    if (v == nullptr) return {};
    if (!v->is_string()) return fail(key, "a string", *v), std::string();
    return v->get<std::string>();
  }

  uint64_t kbps(const char* key) {
    const json* v = find(key, false);
    if (v == nullptr) return 0;
    return checkedKbps(key, *v).value_or(0);
  }

  // Absent (an older server) = 0.
  uint64_t kpps(const char* key) {
    const json* v = find(key, false);
    if (v == nullptr) return 0;
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > kMaxKbps) {
      fail(key, "an integer from 0 to 2147483647 (kpps)", *v);
      return 0;
    }
    return static_cast<uint64_t>(v->get<int64_t>());
  }

  std::optional<uint64_t> optionalKbps(const char* key) {
    const json* v = find(key, false);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return checkedKbps(key, *v);
  }

  const json* find(const char* key, bool required) {
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required) fail(key, "a value (the field is required)", json());
      return nullptr;
    }
    return &*it;
  }

  void fail(const char* key, const std::string& expected, const json& got) {
    if (!error_) error_ = fieldError(where_ + key, expected, got);
  }
  const std::optional<Error>& error() const { return error_; }

 private:
  std::optional<uint64_t> checkedKbps(const char* key, const json& v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxKbps) {
      fail(key, "an integer from 0 to 2147483647 (kbit/s)", v);
      return std::nullopt;
    }
    return static_cast<uint64_t>(v.get<int64_t>());
  }

  const json& obj_;
  std::string where_;
  std::optional<Error> error_;
};

// One direction's own status; absent or null = none.
Result<std::optional<DirectionStatus>> parseDirection(const json* d, const std::string& at) {
  if (d == nullptr || d->is_null()) return std::optional<DirectionStatus>();
  if (!d->is_object()) return fieldError(at, "an object", *d);
  FieldReader dr(*d, at + ".");
  DirectionStatus each;
  const std::string text = dr.text("state", true);
  each.detail = dr.text("detail", false);
  if (dr.error()) return *dr.error();
  auto state = parseState(text);
  if (!state || !reportable(*state)) {
    return fieldError(at + ".state",
                      "one of enforced, placement-only, failed, removed, over-committed", text);
  }
  each.state = *state;
  return std::optional<DirectionStatus>(std::move(each));
}

Result<BindingStatus> parseStatus(const json& doc, const std::string& where, bool reportOnly) {
  if (!doc.is_object()) return fieldError(where.empty() ? "body" : where, "an object", doc);
  FieldReader r(doc, where.empty() ? "" : where + ".");
  BindingStatus out;
  const std::string state = r.text("state", true);
  out.detail = r.text("detail", false);
  out.host = r.text("host", false);
  out.backend = r.text("backend", false);
  if (r.error()) return *r.error();
  auto parsed = parseState(state);
  if (!parsed || (reportOnly && !reportable(*parsed))) {
    return fieldError((where.empty() ? "" : where + ".") + "state",
                      reportOnly ? "one of enforced, placement-only, failed, removed"
                                 : "one of unbound, pending, enforced, placement-only, failed, "
                                   "removed",
                      state);
  }
  out.state = *parsed;
  const std::string prefix = where.empty() ? "" : where + ".";
  ASSIGN_OR_RETURN(out.egress, parseDirection(r.find("egress", false), prefix + "egress"));
  ASSIGN_OR_RETURN(out.ingress, parseDirection(r.find("ingress", false), prefix + "ingress"));
  if (const json* pr = r.find("packet_rate", false); pr != nullptr && !pr->is_null()) {
    if (!pr->is_object()) return fieldError(prefix + "packet_rate", "an object", *pr);
    const auto at = [&](const char* d) { return prefix + "packet_rate." + d; };
    const auto get = [&](const char* d) -> const json* {
      auto it = pr->find(d);
      return it == pr->end() ? nullptr : &*it;
    };
    ASSIGN_OR_RETURN(out.packetRate.egress, parseDirection(get("egress"), at("egress")));
    ASSIGN_OR_RETURN(out.packetRate.ingress, parseDirection(get("ingress"), at("ingress")));
    ASSIGN_OR_RETURN(out.packetRate.any, parseDirection(get("any"), at("any")));
  }
  return out;
}

Result<Binding> parseBinding(const json& doc, const std::string& where) {
  if (!doc.is_object()) return fieldError(where, "an object", doc);
  FieldReader r(doc, where + ".");
  Binding b;
  b.portId = r.text("port_id", true);
  b.portName = r.text("port_name", false);
  b.macAddress = r.text("mac_address", false);
  b.vnicType = r.text("vnic_type", false);
  b.serverId = r.text("server_id", false);
  b.allocation = r.text("allocation", false);
  b.device = r.text("device", false);
  b.agentType = r.text("agent_type", false);
  b.minEgressKbps = r.kbps("min_egress_kbps");
  b.minIngressKbps = r.kbps("min_ingress_kbps");
  b.maxEgressKbps = r.optionalKbps("max_egress_kbps");
  b.maxIngressKbps = r.optionalKbps("max_ingress_kbps");
  b.packetRateAllocation = r.text("packet_rate_allocation", false);
  b.minEgressKpps = r.kpps("min_egress_kpps");
  b.minIngressKpps = r.kpps("min_ingress_kpps");
  b.minAnyKpps = r.kpps("min_any_kpps");
  if (r.error()) return *r.error();
  if (const json* status = r.find("status", false)) {
    ASSIGN_OR_RETURN(b.status, parseStatus(*status, where + ".status", false));
  }
  return b;
}

json optionalKbps(const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

std::string_view stateName(BindingState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<BindingState> parseState(std::string_view text) {
  for (const auto& [s, name] : kStateNames) {
    if (name == text) return s;
  }
  return std::nullopt;
}

bool reportable(BindingState state) {
  return state == BindingState::kEnforced || state == BindingState::kPlacementOnly ||
         state == BindingState::kFailed || state == BindingState::kRemoved ||
         state == BindingState::kOverCommitted;
}

json toJson(const BindingStatus& status) {
  json out = {{"state", stateName(status.state)},
              {"detail", status.detail},
              {"host", status.host},
              {"backend", status.backend}};
  for (const auto& [name, d] :
       {std::pair{"egress", &status.egress}, {"ingress", &status.ingress}}) {
    if (*d) out[name] = {{"state", stateName((*d)->state)}, {"detail", (*d)->detail}};
  }
  if (!status.packetRate.empty()) {
    json pr = json::object();
    const PacketRateStatus& p = status.packetRate;
    for (const auto& [name, d] :
         {std::pair{"egress", &p.egress}, {"ingress", &p.ingress}, {"any", &p.any}}) {
      if (*d) pr[name] = {{"state", stateName((*d)->state)}, {"detail", (*d)->detail}};
    }
    out["packet_rate"] = std::move(pr);
  }
  return out;
}

json toJson(const Binding& b) {
  return {{"port_id", b.portId},
          {"port_name", b.portName},
          {"mac_address", b.macAddress},
          {"vnic_type", b.vnicType},
          {"server_id", b.serverId},
          {"allocation", b.allocation},
          {"device", b.device},
          {"agent_type", b.agentType},
          {"min_egress_kbps", b.minEgressKbps},
          {"min_ingress_kbps", b.minIngressKbps},
          {"max_egress_kbps", optionalKbps(b.maxEgressKbps)},
          {"max_ingress_kbps", optionalKbps(b.maxIngressKbps)},
          {"packet_rate_allocation", b.packetRateAllocation},
          {"min_egress_kpps", b.minEgressKpps},
          {"min_ingress_kpps", b.minIngressKpps},
          {"min_any_kpps", b.minAnyKpps},
          {"status", toJson(b.status)}};
}

json toJson(const HostBindings& hb) {
  json list = json::array();
  for (const auto& b : hb.bindings) list.push_back(toJson(b));
  return {{"host", hb.host},
          {"revision", hb.revision},
          {"bindings", std::move(list)},
          {"providers_deleted", hb.providersDeleted}};
}

Result<HostBindings> parseHostBindings(const json& doc) {
  if (!doc.is_object()) return fieldError("bindings document", "an object", doc);
  HostBindings out;
  auto revision = doc.find("revision");
  if (revision == doc.end() || !revision->is_number_unsigned()) {
    return fieldError("revision", "a non-negative integer",
                      revision == doc.end() ? json() : *revision);
  }
  out.revision = revision->get<uint64_t>();
  if (auto host = doc.find("host"); host != doc.end() && host->is_string()) out.host = *host;
  if (auto deleted = doc.find("providers_deleted"); deleted != doc.end()) {
    if (!deleted->is_number_unsigned()) {
      return fieldError("providers_deleted", "a non-negative integer", *deleted);
    }
    out.providersDeleted = deleted->get<uint64_t>();
  }
  auto list = doc.find("bindings");
  if (list == doc.end() || !list->is_array()) {
    return fieldError("bindings", "an array", list == doc.end() ? json() : *list);
  }
  for (size_t i = 0; i < list->size(); ++i) {
    ASSIGN_OR_RETURN(Binding b, parseBinding((*list)[i], "bindings[" + std::to_string(i) + "]"));
    out.bindings.push_back(std::move(b));
  }
  return out;
}

Result<StatusReport> parseStatusReport(const json& doc) { return parseStatus(doc, "", true); }

Result<BindingStatus> parseBindingStatus(const json& doc) { return parseStatus(doc, "", false); }

}  // namespace bwfloor::bindings
