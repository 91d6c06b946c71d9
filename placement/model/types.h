#pragma once
// Placement's data, as plain values. Uuids are kept as canonical strings (lower case, dashed): the
// API speaks strings, and the candidates engine builds its own integer index.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"

namespace bwfloor::placement {

inline constexpr int64_t kMaxInt32 = 2147483647;

struct Inventory {
  int64_t total = 0;
  int64_t reserved = 0;
  int64_t minUnit = 1;
  int64_t maxUnit = kMaxInt32;
  int64_t stepSize = 1;
  double allocationRatio = 1.0;

  // int((total - reserved) * allocation_ratio), as Placement computes it.
  int64_t capacity() const {
    return static_cast<int64_t>(static_cast<double>(total - reserved) * allocationRatio);
  }
  bool operator==(const Inventory&) const = default;
};

struct Provider {
  std::string uuid;
  std::string name;
  int64_t generation = 0;
  std::string parentUuid;  // empty for a root
  std::string rootUuid;
  std::map<std::string, Inventory> inventories;  // by resource class
  std::set<std::string> traits;
  std::set<std::string> aggregates;
  int64_t createdAt = 0;  // unix seconds
  int64_t updatedAt = 0;

  // Kept by PlacementModel for readers under its lock; neither stored nor part of the API.
  // `revision` is unique in the process and changes with every change of the provider or of its
  // usage, so a cache of anything derived from them can key on it. `traitBloom` has
  // traitBloomBit(t) set for each trait: most providers fail a trait test on it alone; the others
  // find the trait's id (PlacementModel::traitIdUnlocked) in `traitIds`, sorted, without a walk of
  // `traits`. `root` is the model's node of rootUuid, `usage` the model's usage of the provider
  // (null when nothing was ever allocated on it). `classes` is `inventories` with each class's id
  // (PlacementModel::classIdUnlocked) and usage: what the candidates engine tests, in one array.
  struct ClassState {
    uint32_t id;
    int64_t used;
    Inventory inventory;
  };
  uint64_t revision = 0;
  uint64_t traitBloom = 0;
  std::vector<uint32_t> traitIds;
  const Provider* root = nullptr;
  const std::map<std::string, int64_t>* usage = nullptr;
  std::vector<ClassState> classes;
};

// One bit per trait name for Provider::traitBloom.
uint64_t traitBloomBit(const std::string& trait);

using ResourceAmounts = std::map<std::string, int64_t>;  // resource class -> amount

struct Consumer {
  std::string uuid;
  std::string projectId;
  std::string userId;
  std::optional<std::string> consumerType;  // 1.38; unset shows as "unknown"
  int64_t generation = 0;
  std::map<std::string, ResourceAmounts> allocations;  // provider uuid -> amounts
  int64_t createdAt = 0;
  int64_t updatedAt = 0;
};

// What went wrong, in the service's own terms: the model, the store, the scheduler and the /v1
// service return these; only the two API layers turn them into HTTP statuses
// (api/error_status.h: httpStatus()). `code` is Placement's error code (1.23+).
enum class Errc {
  kInvalid,               // the request is malformed or breaks a rule
  kUnauthenticated,       // no or an unknown credential
  kForbidden,             // the credential may not do this
  kNotFound,              // no such object
  kMethodNotAllowed,      // the URL exists, not with this method
  kNotAcceptable,         // no representation or microversion the client accepts
  kConflict,              // generation mismatch, in use, exists, no capacity
  kUnsupportedMediaType,  // a body that is not JSON
  kUnavailable,           // the store failed: nothing changed, try again
  kTimeout,               // an agent did not answer in time: nothing kept
  kInternal,              // a bug
};
const char* errcName(Errc errc);

struct ApiError {
  Errc errc = Errc::kInvalid;
  std::string detail;
  std::string code = "placement.undefined_code";
  // Placement raises it as an object-layer NotFound that handler.py turns into a 404 outside the
  // microversion middleware: the answer has the version header but no `vary`.
  bool trapped = false;
};

template <typename T>
using ApiResult = Result<T, ApiError>;
using ApiStatus = BasicStatus<ApiError>;

inline ApiError badRequest(std::string detail, std::string code = "placement.undefined_code") {
  return {Errc::kInvalid, std::move(detail), std::move(code)};
}
inline ApiError notFound(std::string detail) { return {Errc::kNotFound, std::move(detail)}; }
// An object that does not exist, as Placement's objects report it (see ApiError::trapped).
inline ApiError trappedNotFound(std::string detail) {
  return {Errc::kNotFound, std::move(detail), "placement.undefined_code", true};
}
inline ApiError conflict(std::string detail, std::string code = "placement.undefined_code") {
  return {Errc::kConflict, std::move(detail), std::move(code)};
}
inline ApiError forbidden(std::string detail) { return {Errc::kForbidden, std::move(detail)}; }
inline ApiError unavailable(std::string detail) { return {Errc::kUnavailable, std::move(detail)}; }
inline constexpr const char* kConcurrentUpdate = "placement.concurrent_update";

}  // namespace bwfloor::placement
