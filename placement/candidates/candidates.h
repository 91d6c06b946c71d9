#pragma once
// GET /allocation_candidates computed from the in-memory model (placement-api.md §2): per-group
// candidates, then a depth-first merge across groups per anchor root that prunes as it goes
// (capacity of the summed amounts, group_policy=isolate) and stops at the limit, instead of
// generating every combination first.

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
};

struct AllocationRequest {
  std::map<std::string, ResourceAmounts> allocations;        // provider -> amounts
  std::map<std::string, std::vector<std::string>> mappings;  // suffix -> providers
};

struct CandidateResult {
  std::vector<AllocationRequest> requests;
  std::set<std::string> summaryProviders;  // providers to describe in provider_summaries
};

// Runs under the model's read lock. Trait and class names must have been validated.
CandidateResult findCandidates(const PlacementModel& model, const CandidateRequest& request);

}  // namespace bwfloor::placement
