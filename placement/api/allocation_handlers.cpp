// /allocations, /resource_providers/{uuid}/allocations, /usages and /reshaper
// (handlers/allocation.py, usage.py, reshaper.py). Body shapes per microversion: §1.4 of
// placement-api.md.

#include <algorithm>

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"

namespace bwfloor::placement::handlers {

using json_checks::json;

namespace {

constexpr const char* kIncompleteId = "00000000-0000-0000-0000-000000000000";

ApiResult<ResourceAmounts> parseResources(const json& v, const std::string& where) {
  if (!v.is_object() || v.empty()) {
    return json_checks::invalid("'resources' of " + where + " must be a non-empty object");
  }
  ResourceAmounts out;
  for (const auto& [rc, n] : v.items()) {
    if (!n.is_number_integer() || n.get<int64_t>() < 1 || n.get<int64_t>() > kMaxInt32) {
      return json_checks::invalid("'resources' of " + where + ": " + rc + " = " + n.dump() +
                                  " is not an integer from 1 to 2147483647");
    }
    out[rc] = n.get<int64_t>();
  }
  return out;
}

ApiResult<std::string> parseIdField(const json& b, const char* key) {
  return json_checks::getString(b, key, 1, 255);
}

// 1.34 `mappings` (accepted and ignored, but validated): {suffix: [provider uuid, ...]}, with
// at least one suffix and one uuid each.
ApiStatus checkMappings(const json& b) {
  auto it = b.find("mappings");
  if (it == b.end()) return ApiStatus::ok();
  if (!it->is_object() || it->empty()) {
    return json_checks::invalid("'mappings' must be an object with at least one property");
  }
  for (const auto& [suffix, rps] : it->items()) {
    if (!rps.is_array() || rps.empty()) {
      return json_checks::invalid("'mappings' of '" + suffix + "' must be a non-empty array");
    }
    for (const auto& rp : rps) {
      if (!rp.is_string() || !json_checks::normalizeUuid(rp.get<std::string>())) {
        return json_checks::invalid("'mappings' of '" + suffix + "': " + rp.dump() +
                                    " is not a 'uuid'");
      }
    }
  }
  return ApiStatus::ok();
}

// The dict shape of one consumer (1.12+): allocations, project/user, generation, type.
ApiResult<AllocationWrite> parseConsumerBody(const RequestContext& ctx, const json& b,
                                             const std::string& consumer, bool bulk) {
  const Microversion& v = ctx.version;
  std::string where = bulk ? "consumer " + consumer : std::string("the body");
  RETURN_IF_ERROR(json_checks::requireObject(b, where));
  if (v.atLeast(38)) {
    RETURN_IF_ERROR(json_checks::onlyKeys(b,
                                          {"allocations", "project_id", "user_id",
                                           "consumer_generation", "consumer_type", "mappings"},
                                          where));
    RETURN_IF_ERROR(json_checks::requireKeys(
        b, {"allocations", "project_id", "user_id", "consumer_generation", "consumer_type"},
        where));
  } else if (v.atLeast(34)) {
    RETURN_IF_ERROR(json_checks::onlyKeys(
        b, {"allocations", "project_id", "user_id", "consumer_generation", "mappings"}, where));
    RETURN_IF_ERROR(json_checks::requireKeys(
        b, {"allocations", "project_id", "user_id", "consumer_generation"}, where));
  } else if (v.atLeast(28)) {
    RETURN_IF_ERROR(json_checks::onlyKeys(
        b, {"allocations", "project_id", "user_id", "consumer_generation"}, where));
    RETURN_IF_ERROR(json_checks::requireKeys(
        b, {"allocations", "project_id", "user_id", "consumer_generation"}, where));
  } else {
    RETURN_IF_ERROR(json_checks::onlyKeys(b, {"allocations", "project_id", "user_id"}, where));
    RETURN_IF_ERROR(json_checks::requireKeys(b, {"allocations", "project_id", "user_id"}, where));
  }
  RETURN_IF_ERROR(checkMappings(b));
  AllocationWrite w;
  w.consumerUuid = consumer;
  ASSIGN_OR_RETURN(w.projectId, parseIdField(b, "project_id"));
  ASSIGN_OR_RETURN(w.userId, parseIdField(b, "user_id"));
  const json& allocs = b["allocations"];
  if (!allocs.is_object()) return json_checks::invalid("'allocations' must be an object");
  if (allocs.empty() && !v.atLeast(28) && !bulk) {
    return json_checks::invalid("{} does not have enough properties");
  }
  for (const auto& [rp, entry] : allocs.items()) {
    auto uuid = json_checks::normalizeUuid(rp);
    if (!uuid || rp.size() != 36) {
      return json_checks::invalid("'" + rp + "' does not match '^[0-9a-fA-F-]{36}$'");
    }
    RETURN_IF_ERROR(json_checks::requireObject(entry, "allocation for " + rp));
    RETURN_IF_ERROR(
        json_checks::onlyKeys(entry, {"resources", "generation"}, "allocation for " + rp));
    if (!entry.contains("resources")) {
      return json_checks::invalid("'resources' is a required property in allocation for " + rp);
    }
    ASSIGN_OR_RETURN(w.allocations[*uuid], parseResources(entry["resources"], rp));
  }
  if (v.atLeast(28)) {
    w.checkGeneration = true;
    const json& g = b["consumer_generation"];
    if (!g.is_null() && !g.is_number_integer()) {
      return json_checks::invalid("'consumer_generation': " + g.dump() +
                                  " is not of type 'integer', 'null'");
    }
    if (g.is_number_integer()) w.consumerGeneration = g.get<int64_t>();
  }
  if (v.atLeast(38)) {
    ASSIGN_OR_RETURN(std::string type, json_checks::getString(b, "consumer_type", 1, 255));
    for (char c : type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
        return json_checks::invalid("'consumer_type': '" + type +
                                    "' does not match '^[A-Z0-9_]+$'");
      }
    }
    w.consumerType = type;
  }
  return w;
}

// The list shape (before 1.12).
ApiResult<AllocationWrite> parseListBody(const RequestContext& ctx, const json& b,
                                         const std::string& consumer) {
  RETURN_IF_ERROR(json_checks::requireObject(b, "the body"));
  // ALLOCATION_SCHEMA (1.0-1.7) knows only "allocations"; 1.8 adds project_id and user_id.
  if (ctx.version.atLeast(8)) {
    RETURN_IF_ERROR(json_checks::onlyKeys(b, {"allocations", "project_id", "user_id"}, "the body"));
  } else {
    RETURN_IF_ERROR(json_checks::onlyKeys(b, {"allocations"}, "the body"));
  }
  AllocationWrite w;
  w.consumerUuid = consumer;
  if (ctx.version.atLeast(8)) {
    RETURN_IF_ERROR(
        json_checks::requireKeys(b, {"allocations", "project_id", "user_id"}, "the body"));
  }
  if (b.contains("project_id")) {
    ASSIGN_OR_RETURN(w.projectId, parseIdField(b, "project_id"));
  } else {
    w.projectId = kIncompleteId;
  }
  if (b.contains("user_id")) {
    ASSIGN_OR_RETURN(w.userId, parseIdField(b, "user_id"));
  } else {
    w.userId = kIncompleteId;
  }
  if (!b.contains("allocations") || !b["allocations"].is_array() || b["allocations"].empty()) {
    return json_checks::invalid("'allocations' must be a non-empty array");
  }
  for (const auto& item : b["allocations"]) {
    RETURN_IF_ERROR(json_checks::requireObject(item, "an allocation"));
    RETURN_IF_ERROR(
        json_checks::onlyKeys(item, {"resource_provider", "resources"}, "an allocation"));
    RETURN_IF_ERROR(
        json_checks::requireKeys(item, {"resource_provider", "resources"}, "an allocation"));
    RETURN_IF_ERROR(json_checks::requireObject(item["resource_provider"], "'resource_provider'"));
    ASSIGN_OR_RETURN(std::string rp, json_checks::getUuid(item["resource_provider"], "uuid"));
    ASSIGN_OR_RETURN(w.allocations[rp], parseResources(item["resources"], rp));
  }
  return w;
}

ApiResult<std::vector<AllocationWrite>> parseBulk(const RequestContext& ctx, const json& b) {
  RETURN_IF_ERROR(json_checks::requireObject(b, "the body"));
  if (b.empty()) return json_checks::invalid("{} does not have enough properties");
  std::vector<AllocationWrite> writes;
  for (const auto& [consumer, entry] : b.items()) {
    auto uuid = json_checks::normalizeUuid(consumer);
    if (!uuid || consumer.size() != 36) {
      return json_checks::invalid("'" + consumer + "' does not match '^[0-9a-fA-F-]{36}$'");
    }
    ASSIGN_OR_RETURN(AllocationWrite w, parseConsumerBody(ctx, entry, *uuid, true));
    writes.push_back(std::move(w));
  }
  return writes;
}

}  // namespace

http::Response getProviderAllocations(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) {
    return errorResponse(ctx, notFound("Resource provider '" + ctx.param(0) +
                                       "' not found: No "
                                       "resource provider with uuid " +
                                       ctx.param(0) + " found"));
  }
  json allocs = json::object();
  for (const auto& [consumer, entry] : model.providerAllocations(ctx.param(0))) {
    allocs[consumer] = {{"resources", entry.first}};
    if (ctx.version.atLeast(28)) allocs[consumer]["consumer_generation"] = entry.second;
  }
  return jsonResponse(ctx, 200,
                      {{"resource_provider_generation", p->generation}, {"allocations", allocs}},
                      std::time(nullptr));
}

http::Response getConsumerAllocations(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto consumer = model.getConsumer(ctx.param(0));
  if (consumer && consumer->allocations.empty()) consumer.reset();  // Placement reads allocations
  json allocs = json::object();
  json body = {{"allocations", allocs}};
  int64_t lastModified = std::time(nullptr);
  if (consumer) {
    for (const auto& [rp, amounts] : consumer->allocations) {
      auto p = model.getProvider(rp);
      body["allocations"][rp] = {{"generation", p ? p->generation : 0}, {"resources", amounts}};
    }
    if (ctx.version.atLeast(12)) {
      body["project_id"] = consumer->projectId;
      body["user_id"] = consumer->userId;
    }
    if (ctx.version.atLeast(28)) body["consumer_generation"] = consumer->generation;
    if (ctx.version.atLeast(38)) body["consumer_type"] = consumer->consumerType.value_or("unknown");
    lastModified = consumer->updatedAt;
  }
  return jsonResponse(ctx, 200, body, lastModified);
}

namespace {

// Placement's handlers wrap an unknown class in the allocation as "Unable to allocate inventory
// for consumer C: ..." (PUT) or "Unable to allocate inventory ..." (POST).
ApiError unknownClassIn(ApiError error, const std::string& consumer) {
  if (error.detail.rfind("No such resource class ", 0) == 0) {
    error.detail = "Unable to allocate inventory " + consumer + error.detail;
  }
  return error;
}

}  // namespace

http::Response putConsumerAllocations(PlacementModel& model, RequestContext& ctx) {
  auto uuid = json_checks::normalizeUuid(ctx.param(0));
  if (!uuid) {
    return errorResponse(ctx, badRequest("Malformed consumer_uuid: " + ctx.param(0)));
  }
  // Placement's schema for each microversion range (handlers/allocation.py).
  const Microversion& v = ctx.version;
  const char* schemaName = v.atLeast(38)   ? "allocation.ALLOCATION_SCHEMA_V1_38"
                           : v.atLeast(34) ? "allocation.ALLOCATION_SCHEMA_V1_34"
                           : v.atLeast(28) ? "allocation.ALLOCATION_SCHEMA_V1_28"
                           : v.atLeast(12) ? "allocation.ALLOCATION_SCHEMA_V1_12"
                           : v.atLeast(8)  ? "allocation.ALLOCATION_SCHEMA_V1_8"
                                           : "allocation.ALLOCATION_SCHEMA";
  auto body = json_checks::parseBody(ctx, schemaName);
  if (!body) return errorResponse(ctx, body.error());
  auto w = ctx.version.atLeast(12) ? parseConsumerBody(ctx, *body, *uuid, false)
                                   : parseListBody(ctx, *body, *uuid);
  if (!w) return errorResponse(ctx, w.error());
  if (auto st = model.writeAllocations({*w}); !st) {
    return errorResponse(ctx, unknownClassIn(st.error(), "for consumer " + *uuid + ": "));
  }
  return emptyResponse(ctx, 204);
}

http::Response deleteConsumerAllocations(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteAllocations(ctx.param(0)); !st) return errorResponse(ctx, st.error());
  return emptyResponse(ctx, 204);
}

http::Response postAllocations(PlacementModel& model, RequestContext& ctx) {
  const Microversion& v = ctx.version;
  auto body = json_checks::parseBody(ctx, v.atLeast(38)   ? "allocation.POST_ALLOCATIONS_V1_38"
                                          : v.atLeast(34) ? "allocation.POST_ALLOCATIONS_V1_34"
                                          : v.atLeast(28) ? "allocation.POST_ALLOCATIONS_V1_28"
                                                          : "allocation.POST_ALLOCATIONS_V1_13");
  if (!body) return errorResponse(ctx, body.error());
  auto writes = parseBulk(ctx, *body);
  if (!writes) return errorResponse(ctx, writes.error());
  if (auto st = model.writeAllocations(*writes); !st) {
    return errorResponse(ctx, unknownClassIn(st.error(), ""));
  }
  return emptyResponse(ctx, 204);
}

http::Response getUsages(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  bool types = ctx.version.atLeast(38);
  if (auto st = json_checks::validateQuery(
          ctx, types ? "usage.GET_USAGES_SCHEMA_V1_38" : "usage.GET_USAGES_SCHEMA_1_9");
      !st) {
    return errorResponse(ctx, st.error());
  }
  if (auto st = types ? checkQueryKeys(ctx, {"project_id", "user_id", "consumer_type"})
                      : checkQueryKeys(ctx, {"project_id", "user_id"});
      !st) {
    return errorResponse(ctx, st.error());
  }
  auto project = queryValues(ctx, "project_id");
  if (project.empty()) {
    return errorResponse(ctx, badRequest("Invalid query string parameters: 'project_id' is a "
                                         "required property"));
  }
  for (const char* key : {"project_id", "user_id"}) {
    for (const auto& value : queryValues(ctx, key)) {
      if (value.empty() || value.size() > 255) {
        return errorResponse(ctx, badRequest(std::string("Invalid query string parameters: '") +
                                             key + "' must be 1 to 255 characters long"));
      }
    }
  }
  // Who may read which project's usages is the policy's call (dispatch(), target project_id).
  UsageQuery q{project.back()};
  if (auto user = queryValues(ctx, "user_id"); !user.empty()) q.userId = user.back();
  if (auto type = queryValues(ctx, "consumer_type"); !type.empty()) {
    // schemas/usage.py: a type name, "all" or "unknown".
    const std::string& t = type.back();
    bool valid = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid && t != "all" && t != "unknown") {
      return errorResponse(ctx, badRequest("Invalid query string parameters: '" + t +
                                           "' does not match '^[A-Z0-9_]+$'"));
    }
    q.consumerType = t;
  }
  auto result = model.usages(q);
  json body;
  if (types) {
    json usages = json::object();
    for (const auto& [type, entry] : result) {
      json u = entry.first;
      u["consumer_count"] = entry.second;
      usages[type] = u;
    }
    body = {{"usages", usages}};
  } else {
    ResourceAmounts total;
    for (const auto& [type, entry] : result) {
      for (const auto& [rc, n] : entry.first) total[rc] += n;
    }
    body = {{"usages", total}};
  }
  return jsonResponse(ctx, 200, body, std::time(nullptr));
}

http::Response reshape(PlacementModel& model, RequestContext& ctx) {
  const Microversion& v = ctx.version;
  auto body = json_checks::parseBody(ctx, v.atLeast(38)   ? "reshaper.POST_RESHAPER_SCHEMA_V1_38"
                                          : v.atLeast(34) ? "reshaper.POST_RESHAPER_SCHEMA_V1_34"
                                                          : "reshaper.POST_RESHAPER_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  auto fail = [&](const ApiError& e) { return errorResponse(ctx, e); };
  if (auto st = json_checks::requireObject(b, "the body"); !st) return fail(st.error());
  if (auto st = json_checks::onlyKeys(b, {"inventories", "allocations"}, "the body"); !st) {
    return fail(st.error());
  }
  if (auto st = json_checks::requireKeys(b, {"inventories", "allocations"}, "the body"); !st) {
    return fail(st.error());
  }
  if (!b["inventories"].is_object() || b["inventories"].empty()) {
    return fail(json_checks::invalid("'inventories' must be an object with at least one provider"));
  }
  std::vector<ReshapeInventory> invs;
  for (const auto& [rp, entry] : b["inventories"].items()) {
    auto uuid = json_checks::normalizeUuid(rp);
    if (!uuid) return fail(json_checks::invalid("'" + rp + "' is not a 'uuid'"));
    if (auto st = json_checks::requireObject(entry, "inventories of " + rp); !st) {
      return fail(st.error());
    }
    if (auto st = json_checks::onlyKeys(entry, {"resource_provider_generation", "inventories"},
                                        "inventories of " + rp);
        !st) {
      return fail(st.error());
    }
    auto gen = json_checks::getInt(entry, "resource_provider_generation", 0, INT64_MAX);
    if (!gen) return fail(gen.error());
    ReshapeInventory ri{*uuid, *gen, {}};
    if (!entry.contains("inventories") || !entry["inventories"].is_object()) {
      return fail(json_checks::invalid("'inventories' of " + rp + " must be an object"));
    }
    for (const auto& [rc, inv] : entry["inventories"].items()) {
      auto parsed = parseReshaperInventory(inv, rc);
      if (!parsed) return fail(parsed.error());
      ri.inventories[rc] = *parsed;
    }
    invs.push_back(std::move(ri));
  }
  if (!b["allocations"].is_object()) {
    return fail(json_checks::invalid("'allocations' must be an object"));
  }
  std::vector<AllocationWrite> writes;
  if (!b["allocations"].empty()) {
    auto parsed = parseBulk(ctx, b["allocations"]);
    if (!parsed) return fail(parsed.error());
    writes = std::move(*parsed);
  }
  if (auto st = model.reshape(invs, writes); !st) return fail(st.error());
  return emptyResponse(ctx, 204);
}

}  // namespace bwfloor::placement::handlers
