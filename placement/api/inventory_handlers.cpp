// /resource_providers/{uuid}/inventories[/{rc}] and /usages (handlers/inventory.py, usage.py).

#include "placement/api/handlers.h"
#include "placement/api/json_checks.h"

namespace bwfloor::placement::handlers {

using json_checks::json;

namespace {

constexpr double kMaxRatio = 3.40282e38;

json inventoryJson(const Inventory& i) {
  return {{"total", i.total},        {"reserved", i.reserved},
          {"min_unit", i.minUnit},   {"max_unit", i.maxUnit},
          {"step_size", i.stepSize}, {"allocation_ratio", i.allocationRatio}};
}

// One inventory record (schema and defaults); `allowed` are the keys the body may carry.
ApiResult<Inventory> parseInventoryFields(const json& b, const std::string& rc,
                                          std::initializer_list<const char*> allowed) {
  RETURN_IF_ERROR(json_checks::requireObject(b, "inventory of " + rc));
  RETURN_IF_ERROR(json_checks::onlyKeys(b, allowed, "inventory of " + rc));
  Inventory inv;
  ASSIGN_OR_RETURN(inv.total, json_checks::getInt(b, "total", 1, kMaxInt32));
  ASSIGN_OR_RETURN(inv.reserved, json_checks::getInt(b, "reserved", 0, kMaxInt32, 0));
  ASSIGN_OR_RETURN(inv.minUnit, json_checks::getInt(b, "min_unit", 1, kMaxInt32, 1));
  ASSIGN_OR_RETURN(inv.maxUnit, json_checks::getInt(b, "max_unit", 1, kMaxInt32, kMaxInt32));
  ASSIGN_OR_RETURN(inv.stepSize, json_checks::getInt(b, "step_size", 1, kMaxInt32, 1));
  // Placement's inventory schemas allow a generation in every record (type-checked, then
  // ignored: only the PUT bodies' own generation is compared).
  if (auto gen = json_checks::getInt(b, "resource_provider_generation", INT64_MIN, INT64_MAX, 0);
      !gen) {
    return gen.error();
  }
  if (auto it = b.find("allocation_ratio"); it != b.end()) {
    if (!it->is_number()) {
      return json_checks::invalid("'allocation_ratio': " + it->dump() + " is not of type 'number'");
    }
    inv.allocationRatio = it->get<double>();
    if (inv.allocationRatio > kMaxRatio) {
      return json_checks::invalid("'allocation_ratio': " + it->dump() +
                                  " is greater than the maximum of 3.40282e+38");
    }
  }
  return inv;
}

// Placement's _validate_inventory_capacity: capacity > 0 before 1.26, >= 0 from 1.26.
// `verb` is the write's name in the error ("create" for POST, "update" for PUT).
ApiResult<Inventory> parseInventory(const RequestContext& ctx, const json& b, const std::string& rc,
                                    const std::string& rpUuid,
                                    std::initializer_list<const char*> allowed,
                                    const char* verb = "update") {
  ASSIGN_OR_RETURN(Inventory inv, parseInventoryFields(b, rc, allowed));
  bool bad = ctx.version.atLeast(26) ? inv.capacity() < 0 : inv.capacity() <= 0;
  if (bad) {
    return badRequest(std::string("Unable to ") + verb + " inventory for resource provider " +
                      rpUuid + ": Invalid inventory for '" + rc + "' on resource provider '" +
                      rpUuid + "'. The reserved value is greater than " +
                      (ctx.version.atLeast(26) ? "total." : "or equal to total."));
  }
  return inv;
}

#define INVENTORY_FIELDS                                                        \
  "total", "reserved", "min_unit", "max_unit", "step_size", "allocation_ratio", \
      "resource_provider_generation"

http::Response inventoriesBody(const RequestContext& ctx, const Provider& p, int status) {
  json invs = json::object();
  for (const auto& [rc, i] : p.inventories) invs[rc] = inventoryJson(i);
  const json body = {{"resource_provider_generation", p.generation}, {"inventories", invs}};
  // Placement dates the answer by its newest inventory: none, no last-modified.
  if (p.inventories.empty()) return undatedJsonResponse(ctx, status, body);
  return jsonResponse(ctx, status, body, p.updatedAt);
}

http::Response oneInventory(const RequestContext& ctx, const Provider& p, const std::string& rc,
                            int status) {
  json body = inventoryJson(p.inventories.at(rc));
  body["resource_provider_generation"] = p.generation;
  return jsonResponse(ctx, status, body, p.updatedAt);
}

ApiError noProvider(const std::string& uuid) {
  return trappedNotFound("No resource provider with uuid " + uuid + " found");
}

// The inventory reads wrap the objects' NotFound in their own 404 (handlers/inventory.py).
ApiError noProviderToRead(const std::string& uuid) {
  const std::string missing = "No resource provider with uuid " + uuid + " found";
  return notFound(missing + " : " + missing);
}

}  // namespace

ApiResult<Inventory> parseReshaperInventory(const json& body, const std::string& rc) {
  return parseInventoryFields(body, rc, {INVENTORY_FIELDS});
}

http::Response getInventories(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) return errorResponse(ctx, noProviderToRead(ctx.param(0)));
  return inventoriesBody(ctx, *p, 200);
}

http::Response getInventory(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) return errorResponse(ctx, noProviderToRead(ctx.param(0)));
  if (!p->inventories.count(ctx.param(1))) {
    return errorResponse(
        ctx, notFound("No inventory of class " + ctx.param(1) + " for " + ctx.param(0)));
  }
  return oneInventory(ctx, *p, ctx.param(1), 200);
}

// Placement's order in the inventory writes: media type (415), provider (404), body (400).
http::Response createInventory(PlacementModel& model, RequestContext& ctx) {
  if (auto st = json_checks::requireJsonContent(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.getProvider(ctx.param(0))) return errorResponse(ctx, noProvider(ctx.param(0)));
  auto body = json_checks::parseBody(ctx, "inventory.POST_INVENTORY_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  if (!body->is_object()) {
    return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  }
  auto rc = json_checks::getString(*body, "resource_class", 1, 255);
  if (!rc) return errorResponse(ctx, rc.error());
  auto inv =
      parseInventory(ctx, *body, *rc, ctx.param(0), {"resource_class", INVENTORY_FIELDS}, "create");
  if (!inv) return errorResponse(ctx, inv.error());
  auto p = model.addInventory(ctx.param(0), *rc, *inv);
  if (!p) return errorResponse(ctx, p.error());
  http::Response resp = oneInventory(ctx, *p, *rc, 201);
  resp.headers.set("location", absoluteUrl(ctx, ctx.prefix + providerPath(ctx.param(0)) +
                                                    "/inventories/" + *rc));
  return resp;
}

http::Response putInventories(PlacementModel& model, RequestContext& ctx) {
  if (auto st = json_checks::requireJsonContent(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.getProvider(ctx.param(0))) return errorResponse(ctx, noProvider(ctx.param(0)));
  auto body = json_checks::parseBody(ctx, "inventory.PUT_INVENTORY_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  if (!b.is_object()) return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  if (auto st =
          json_checks::onlyKeys(b, {"resource_provider_generation", "inventories"}, "the body");
      !st) {
    return errorResponse(ctx, st.error());
  }
  auto gen = json_checks::getInt(b, "resource_provider_generation", 0, INT64_MAX);
  if (!gen) return errorResponse(ctx, gen.error());
  if (!b.contains("inventories") || !b["inventories"].is_object()) {
    return errorResponse(ctx, json_checks::invalid("'inventories' is a required object"));
  }
  std::map<std::string, Inventory> invs;
  for (const auto& [rc, value] : b["inventories"].items()) {
    auto inv = parseInventory(ctx, value, rc, ctx.param(0), {INVENTORY_FIELDS});
    if (!inv) return errorResponse(ctx, inv.error());
    invs[rc] = *inv;
  }
  auto p = model.setInventories(ctx.param(0), *gen, invs);
  if (!p) return errorResponse(ctx, p.error());
  return inventoriesBody(ctx, *p, 200);
}

http::Response putInventory(PlacementModel& model, RequestContext& ctx) {
  if (auto st = json_checks::requireJsonContent(ctx); !st) return errorResponse(ctx, st.error());
  if (!model.getProvider(ctx.param(0))) return errorResponse(ctx, noProvider(ctx.param(0)));
  auto body = json_checks::parseBody(ctx, "inventory.BASE_INVENTORY_SCHEMA");
  if (!body) return errorResponse(ctx, body.error());
  const json& b = *body;
  if (!b.is_object()) return errorResponse(ctx, json_checks::invalid("the body must be an object"));
  auto gen = json_checks::getInt(b, "resource_provider_generation", 0, INT64_MAX);
  if (!gen) return errorResponse(ctx, gen.error());
  auto inv = parseInventory(ctx, b, ctx.param(1), ctx.param(0), {INVENTORY_FIELDS});
  if (!inv) return errorResponse(ctx, inv.error());
  auto p = model.setInventory(ctx.param(0), *gen, ctx.param(1), *inv);
  if (!p) return errorResponse(ctx, p.error());
  return oneInventory(ctx, *p, ctx.param(1), 200);
}

http::Response deleteInventory(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteInventory(ctx.param(0), ctx.param(1)); !st) {
    return errorResponse(ctx, st.error());
  }
  return emptyResponse(ctx, 204);
}

http::Response deleteInventories(PlacementModel& model, RequestContext& ctx) {
  if (auto st = model.deleteInventories(ctx.param(0)); !st) return errorResponse(ctx, st.error());
  return emptyResponse(ctx, 204);
}

http::Response getProviderUsages(PlacementModel& model, RequestContext& ctx) {
  if (auto st = checkAccept(ctx); !st) return errorResponse(ctx, st.error());
  auto p = model.getProvider(ctx.param(0));
  if (!p) {  // handlers/usage.py wraps the objects' NotFound
    const std::string missing = "No resource provider with uuid " + ctx.param(0) + " found";
    return errorResponse(ctx, notFound(missing + ": " + missing));
  }
  json usages = json::object();
  for (const auto& [rc, used] : model.providerUsage(ctx.param(0))) usages[rc] = used;
  return jsonResponse(ctx, 200,
                      {{"resource_provider_generation", p->generation}, {"usages", usages}},
                      std::time(nullptr));
}

}  // namespace bwfloor::placement::handlers
