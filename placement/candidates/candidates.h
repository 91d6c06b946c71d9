#pragma once
// GET /allocation_candidates computed from the in-memory model (placement-api.md §2): per-group
// candidates bucketed by anchor root, then a depth-first merge across groups per anchor that
// prunes as it goes (capacity of the summed amounts, group_policy=isolate, same_subtree) and
// stops at the limit, instead of generating every combination first.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "placement/model/placement_model.h"

namespace bwfloor::placement {

struct RequestGroup {
  std::string suffix;  // "" for the unsuffixed group
  ResourceAmounts resources;
  std::vector<SetTerm> traits;  // required (any-of) and forbidden terms
  std::vector<SetTerm> memberOf;
  std::optional<std::string> inTree;
};

struct CandidateRequest {
  std::vector<RequestGroup> groups;
  bool isolate = false;  // group_policy=isolate
  std::optional<size_t> limit;
  bool randomize = false;                             // [placement] randomize_allocation_candidates
  std::vector<SetTerm> rootRequired;                  // 1.35
  std::vector<std::vector<std::string>> sameSubtree;  // 1.36: suffix sets
  bool nestedAware = true;                            // 1.29+
  size_t maxCandidates = 100000;                      // Placement's max_allocation_candidates guard
  // False when no provider carries MISC_SHARES_VIA_AGGREGATE (the caller can tell cheaply from
  // the trait's use count): sharing is then never considered, and with a limit the search visits
  // trees one at a time and stops once it has enough candidates.
  bool sharingPossible = true;
};

struct AllocationRequest {
  std::map<std::string, ResourceAmounts> allocations;        // provider -> amounts
  std::map<std::string, std::vector<std::string>> mappings;  // suffix -> providers (sorted)
};

struct CandidateResult {
  std::vector<AllocationRequest> requests;
  // Providers to describe in provider_summaries, tree by tree. The pointers are the model's:
  // valid only while the read lock findCandidates ran under is held.
  std::vector<const Provider*> summaryProviders;
};

// The same answer without a string copied: what the HTTP handler serialises. Pointers are the
// model's (valid under the read lock); `group` indexes CandidateRequest::groups.
struct CandidateSet {
  struct Alloc {
    const Provider* provider;
    int rc;  // index into `classes`
    int64_t amount;
  };
  struct Mapping {
    int group;
    const Provider* provider;
  };
  // One allocation request: allocs [allocBegin, allocEnd), one per (provider, class), sorted by
  // provider uuid; mappings [mappingBegin, mappingEnd), sorted by group then provider uuid.
  struct Item {
    uint32_t allocBegin, allocEnd, mappingBegin, mappingEnd;
  };
  std::vector<std::string> classes;
  std::vector<Alloc> allocs;
  std::vector<Mapping> mappings;
  std::vector<Item> items;
  std::vector<const Provider*> summaryProviders;  // tree by tree
};

// Both run under the model's read lock. Trait and class names must have been validated.
CandidateSet findCandidateSet(const PlacementModel& model, const CandidateRequest& request);
CandidateResult findCandidates(const PlacementModel& model, const CandidateRequest& request);

}  // namespace bwfloor::placement
