#include "placement/store/change_codec.h"

#include <nlohmann/json.hpp>

namespace bwfloor::placement {
namespace {

using json = nlohmann::json;

json providerJson(const Provider& p) {
  json inventories = json::object();
  for (const auto& [rc, i] : p.inventories) {
    inventories[rc] = {i.total, i.reserved, i.minUnit, i.maxUnit, i.stepSize, i.allocationRatio};
  }
  return {{"uuid", p.uuid},
          {"name", p.name},
          {"generation", p.generation},
          {"parent", p.parentUuid},
          {"root", p.rootUuid},
          {"inventories", std::move(inventories)},
          {"traits", p.traits},
          {"aggregates", p.aggregates},
          {"created", p.createdAt},
          {"updated", p.updatedAt}};
}

Provider providerFrom(const json& j) {
  Provider p;
  p.uuid = j.at("uuid").get<std::string>();
  p.name = j.at("name").get<std::string>();
  p.generation = j.at("generation").get<int64_t>();
  p.parentUuid = j.at("parent").get<std::string>();
  p.rootUuid = j.at("root").get<std::string>();
  for (const auto& [rc, v] : j.at("inventories").items()) {
    p.inventories[rc] =
        Inventory{v.at(0).get<int64_t>(), v.at(1).get<int64_t>(), v.at(2).get<int64_t>(),
                  v.at(3).get<int64_t>(), v.at(4).get<int64_t>(), v.at(5).get<double>()};
  }
  p.traits = j.at("traits").get<std::set<std::string>>();
  p.aggregates = j.at("aggregates").get<std::set<std::string>>();
  p.createdAt = j.at("created").get<int64_t>();
  p.updatedAt = j.at("updated").get<int64_t>();
  return p;
}

json consumerJson(const Consumer& c) {
  json out = {{"uuid", c.uuid},
              {"project", c.projectId},
              {"user", c.userId},
              {"generation", c.generation},
              {"allocations", c.allocations},
              {"created", c.createdAt},
              {"updated", c.updatedAt}};
  out["type"] = c.consumerType ? json(*c.consumerType) : json(nullptr);
  return out;
}

Consumer consumerFrom(const json& j) {
  Consumer c;
  c.uuid = j.at("uuid").get<std::string>();
  c.projectId = j.at("project").get<std::string>();
  c.userId = j.at("user").get<std::string>();
  if (!j.at("type").is_null()) c.consumerType = j.at("type").get<std::string>();
  c.generation = j.at("generation").get<int64_t>();
  c.allocations = j.at("allocations").get<std::map<std::string, ResourceAmounts>>();
  c.createdAt = j.at("created").get<int64_t>();
  c.updatedAt = j.at("updated").get<int64_t>();
  return c;
}

}  // namespace

std::string encodeStoreChanges(const StoreChanges& changes) {
  json providers = json::array();
  for (const auto& p : changes.upsertProviders) providers.push_back(providerJson(p));
  json consumers = json::array();
  for (const auto& c : changes.upsertConsumers) consumers.push_back(consumerJson(c));
  return json{
      {"providers", std::move(providers)},     {"delete_providers", changes.deleteProviders},
      {"consumers", std::move(consumers)},     {"delete_consumers", changes.deleteConsumers},
      {"traits", changes.addTraits},           {"delete_traits", changes.deleteTraits},
      {"classes", changes.addResourceClasses}, {"delete_classes", changes.deleteResourceClasses}}
      .dump();
}

Result<StoreChanges> decodeStoreChanges(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return makeError(ErrorCode::kInternal, "change log entry is not a JSON object");
  }
  // Entries are written by bwfloor-servers of this schema version; a malformed one is a bug or
  // a foreign writer, reported with nlohmann's text (which names the key or the type).
  try {
    StoreChanges out;
    for (const auto& p : j.at("providers")) out.upsertProviders.push_back(providerFrom(p));
    out.deleteProviders = j.at("delete_providers").get<std::vector<std::string>>();
    for (const auto& c : j.at("consumers")) out.upsertConsumers.push_back(consumerFrom(c));
    out.deleteConsumers = j.at("delete_consumers").get<std::vector<std::string>>();
    out.addTraits = j.at("traits").get<std::vector<std::string>>();
    out.deleteTraits = j.at("delete_traits").get<std::vector<std::string>>();
    out.addResourceClasses = j.at("classes").get<std::vector<std::pair<std::string, int>>>();
    out.deleteResourceClasses = j.at("delete_classes").get<std::vector<std::string>>();
    return out;
  } catch (const json::exception& e) {
    return makeError(ErrorCode::kInternal, std::string("change log entry: ") + e.what());
  }
}

}  // namespace bwfloor::placement
