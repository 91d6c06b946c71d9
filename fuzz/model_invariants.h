#pragma once
// What must hold after every request http_request_fuzzer sends (each check returns "" or the
// violated invariant with the objects it is about):
//
// checkPlacement, over the model's own nodes under its read lock and the MemoryStore behind it:
//  - usage: for every provider and class, usage >= 0; usage equals the sum of the consumers'
//    allocations on that provider (providerAllocations); a class with usage has an inventory; no
//    usage is left on a provider that is gone.
//  - capacity: where the request raised a usage, usage <= (total - reserved) * allocation_ratio.
//    Not "everywhere": like Placement, the model lets an inventory shrink below its usage (the
//    provider is then overcommitted and only shrinking allocation writes pass, see checkCapacity in
//    placement/model/model_allocations.cpp), so an unchanged usage above capacity is no finding.
//  - derived fields (placement/model/types.h, DEVELOPERS.md): root and usage pointers point at
//    the model's own nodes, `classes` is `inventories` with the class ids and usages, the class
//    index holds exactly the providers with an inventory of the class; parents exist and roots
//    agree along the tree.
//  - durability: the store holds what memory holds (providers with their generation, tree,
//    inventories, traits and aggregates; consumers with their allocations): a write persists and
//    then changes memory, a failed one changes neither.
//
// checkPorts: the /v1 objects in the MemoryJsonStore are the ones PortsService serves (ids and
// fields, except what is computed or runtime-only: resource requests, liveness, heartbeat time).

#include <string>
#include <unordered_map>

#include "placement/model/placement_model.h"
#include "placement/ports/json_store.h"
#include "placement/ports/ports_service.h"
#include "placement/store/store.h"

namespace bwfloor::fuzz {

using UsageMap = std::unordered_map<std::string, placement::ResourceAmounts>;

// A copy of the model's usage, taken before a request.
UsageMap usageSnapshot(const placement::PlacementModel& model);

std::string checkPlacement(const placement::PlacementModel& model, placement::MemoryStore& store,
                           const UsageMap& before);

std::string checkPorts(const ports::PortsService& service, ports::MemoryJsonStore& docs);

}  // namespace bwfloor::fuzz
