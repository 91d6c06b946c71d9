#pragma once
// Typed Placement calls the agent makes (microversion 1.37, which allows re-parenting), over a
// RestTransport. Every call is logged at debug on the "placement" logger with its method, path
// and body, and its answer. Errors keep the HTTP status and Placement's error code so the sync can
// tell a generation conflict (retry) from a down placement (back off) from a refusal (report).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/report/provider_tree.h"
#include "agent/report/rest_transport.h"
#include "core/result.h"

namespace bwfloor::agent {

inline constexpr const char* kPlacementMicroversion = "placement 1.37";

struct PlacementError {
  int status = 0;    // HTTP status; 0 = no answer (transport failure)
  std::string code;  // Placement's errors[0].code, e.g. "placement.concurrent_update"
  std::string message;

  // Placement down, unreachable or failing (5xx): back off and retry the whole sync.
  bool unavailable() const { return status == 0 || status >= 500; }
  bool concurrentUpdate() const { return status == 409 && code == "placement.concurrent_update"; }
  std::string toString() const;
};

template <typename T>
using PlacementResult = Result<T, PlacementError>;
using PlacementStatus = BasicStatus<PlacementError>;

struct ProviderRecord {
  std::string uuid;
  std::string name;
  std::string parentUuid;  // "" for a root
  std::string rootUuid;
  int64_t generation = 0;
};

template <typename T>
struct Generational {
  int64_t generation = 0;
  T value;
};

class PlacementClient {
 public:
  explicit PlacementClient(RestTransport& transport) : transport_(transport) {}

  // GET /resource_providers?name=NAME: the provider, or nullopt.
  PlacementResult<std::optional<ProviderRecord>> findProviderByName(const std::string& name);
  // GET /resource_providers/UUID: the provider, or nullopt on 404.
  PlacementResult<std::optional<ProviderRecord>> getProvider(const std::string& uuid);
  // GET /resource_providers?in_tree=ROOT
  PlacementResult<std::vector<ProviderRecord>> listTree(const std::string& rootUuid);
  // POST /resource_providers; uuid and parent may be empty.
  PlacementResult<ProviderRecord> createProvider(const std::string& name, const std::string& uuid,
                                                 const std::string& parentUuid);
  // PUT /resource_providers/UUID {name, parent_provider_uuid}
  PlacementResult<ProviderRecord> updateProvider(const std::string& uuid, const std::string& name,
                                                 const std::string& parentUuid);
  // DELETE /resource_providers/UUID; a provider already gone counts as deleted.
  PlacementStatus deleteProvider(const std::string& uuid);

  PlacementResult<Generational<std::set<std::string>>> getTraits(const std::string& uuid);
  // PUT /resource_providers/UUID/traits (whole set); returns the new generation.
  PlacementResult<int64_t> putTraits(const std::string& uuid, int64_t generation,
                                     const std::set<std::string>& traits);
  PlacementResult<Generational<Inventories>> getInventories(const std::string& uuid);
  // PUT /resource_providers/UUID/inventories (whole set); returns the new generation.
  PlacementResult<int64_t> putInventories(const std::string& uuid, int64_t generation,
                                          const Inventories& inventories);

  // GET /traits?name=in:A,B: which of `names` exist.
  PlacementResult<std::set<std::string>> existingTraits(const std::set<std::string>& names);
  // PUT /traits/NAME (201 created, 204 already there).
  PlacementStatus createTrait(const std::string& name);

 private:
  // Sends and logs; a status outside `okStatuses` becomes a PlacementError.
  PlacementResult<http::Response> call(const std::string& method, const std::string& path,
                                       const std::string& body,
                                       std::initializer_list<int> okStatuses);

  RestTransport& transport_;
};

}  // namespace bwfloor::agent
