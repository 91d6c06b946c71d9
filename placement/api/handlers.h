#pragma once
// Route handlers, one function per route (grouped by file as Placement's handlers/ are).

#include "http/message.h"
#include "placement/api/request_context.h"
#include "placement/model/placement_model.h"

namespace bwfloor::placement::handlers {

#define BWFLOOR_HANDLER(name) http::Response name(PlacementModel& model, RequestContext& ctx)

// resource_provider_handlers.cpp
BWFLOOR_HANDLER(listProviders);
BWFLOOR_HANDLER(createProvider);
BWFLOOR_HANDLER(getProvider);
BWFLOOR_HANDLER(updateProvider);
BWFLOOR_HANDLER(deleteProvider);
// inventory_handlers.cpp
BWFLOOR_HANDLER(getInventories);
BWFLOOR_HANDLER(createInventory);
BWFLOOR_HANDLER(putInventories);
BWFLOOR_HANDLER(deleteInventories);
BWFLOOR_HANDLER(getInventory);
BWFLOOR_HANDLER(putInventory);
BWFLOOR_HANDLER(deleteInventory);
BWFLOOR_HANDLER(getProviderUsages);
// trait_handlers.cpp (traits, resource classes, aggregates)
BWFLOOR_HANDLER(listTraits);
BWFLOOR_HANDLER(getTrait);
BWFLOOR_HANDLER(putTrait);
BWFLOOR_HANDLER(deleteTrait);
BWFLOOR_HANDLER(getProviderTraits);
BWFLOOR_HANDLER(putProviderTraits);
BWFLOOR_HANDLER(deleteProviderTraits);
BWFLOOR_HANDLER(listResourceClasses);
BWFLOOR_HANDLER(createResourceClass);
BWFLOOR_HANDLER(getResourceClass);
BWFLOOR_HANDLER(putResourceClass);
BWFLOOR_HANDLER(deleteResourceClass);
BWFLOOR_HANDLER(getAggregates);
BWFLOOR_HANDLER(putAggregates);
// allocation_handlers.cpp
BWFLOOR_HANDLER(getProviderAllocations);
BWFLOOR_HANDLER(getConsumerAllocations);
BWFLOOR_HANDLER(putConsumerAllocations);
BWFLOOR_HANDLER(deleteConsumerAllocations);
BWFLOOR_HANDLER(postAllocations);
BWFLOOR_HANDLER(getUsages);
BWFLOOR_HANDLER(reshape);
// allocation_candidates (candidates/)
BWFLOOR_HANDLER(allocationCandidates);

#undef BWFLOOR_HANDLER

// Shared by handlers: provider JSON in the shape of the request's microversion.
nlohmann::json providerJson(const RequestContext& ctx, const Provider& p);
std::string providerPath(const std::string& uuid);
// The named query parameter's values (in order).
std::vector<std::string> queryValues(const RequestContext& ctx, const std::string& key);
// 400 "Invalid query string parameters: ..." for any key not in `allowed`.
ApiStatus checkQueryKeys(const RequestContext& ctx, std::initializer_list<const char*> allowed);
// Accept must admit application/json on JSON GETs (406 otherwise).
ApiStatus checkAccept(const RequestContext& ctx);
// One inventory of a reshaper body: the inventory schema and defaults (no capacity check, as
// Placement's reshaper does none).
ApiResult<Inventory> parseReshaperInventory(const nlohmann::json& body, const std::string& rc);

}  // namespace bwfloor::placement::handlers
