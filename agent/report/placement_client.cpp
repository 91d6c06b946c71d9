#include "agent/report/placement_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "core/logging.h"

namespace bwfloor::agent {
namespace {

using nlohmann::json;

PlacementError malformed(const std::string& what, const http::Response& resp) {
  return {resp.status, "", "malformed placement answer to " + what + ": " + resp.body};
}

// Parses a JSON body; nlohmann's exceptions stay in here (STYLE.md §4).
std::optional<json> parseBody(const std::string& body) {
  json doc = parseUntrustedJson(body);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

std::optional<ProviderRecord> toRecord(const json& rp) {
  try {
    ProviderRecord record;
    record.uuid = rp.at("uuid").get<std::string>();
    record.name = rp.at("name").get<std::string>();
    record.generation = rp.at("generation").get<int64_t>();
    if (rp.contains("parent_provider_uuid") && rp["parent_provider_uuid"].is_string()) {
      record.parentUuid = rp["parent_provider_uuid"].get<std::string>();
    }
    if (rp.contains("root_provider_uuid") && rp["root_provider_uuid"].is_string()) {
      record.rootUuid = rp["root_provider_uuid"].get<std::string>();
    }
    return record;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

PlacementResult<ProviderRecord> recordFrom(const std::string& what, const http::Response& resp) {
  auto doc = parseBody(resp.body);
  if (!doc) return malformed(what, resp);
  auto record = toRecord(*doc);
  if (!record) return malformed(what, resp);
  return *record;
}

PlacementResult<std::vector<ProviderRecord>> recordsFrom(const std::string& what,
                                                         const http::Response& resp) {
  auto doc = parseBody(resp.body);
  if (!doc || !doc->contains("resource_providers") || !(*doc)["resource_providers"].is_array()) {
    return malformed(what, resp);
  }
  std::vector<ProviderRecord> records;
  for (const auto& rp : (*doc)["resource_providers"]) {
    auto record = toRecord(rp);
    if (!record) return malformed(what, resp);
    records.push_back(std::move(*record));
  }
  return records;
}

PlacementResult<int64_t> generationFrom(const std::string& what, const http::Response& resp) {
  auto doc = parseBody(resp.body);
  if (!doc) return malformed(what, resp);
  try {
    return doc->at("resource_provider_generation").get<int64_t>();
  } catch (const json::exception&) {
    return malformed(what, resp);
  }
}

json inventoriesJson(const Inventories& inventories) {
  json out = json::object();
  for (const auto& [rc, inv] : inventories) {
    out[rc] = {{"total", inv.total},        {"reserved", inv.reserved},
               {"min_unit", inv.minUnit},   {"max_unit", inv.maxUnit},
               {"step_size", inv.stepSize}, {"allocation_ratio", inv.allocationRatio}};
  }
  return out;
}

std::string errorCode(const http::Response& resp) {
  auto doc = parseBody(resp.body);
  if (!doc) return {};
  try {
    return doc->at("errors").at(0).value("code", "");
  } catch (const json::exception&) {
    return {};
  }
}

std::string errorDetail(const http::Response& resp) {
  auto doc = parseBody(resp.body);
  if (doc) {
    try {
      const json& e = doc->at("errors").at(0);
      return e.value("title", "") + ": " + e.value("detail", "");
    } catch (const json::exception&) {
    }
  }
  return resp.body.substr(0, 200);
}

}  // namespace

std::string PlacementError::toString() const {
  if (status == 0) return "placement unreachable: " + message;
  return "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) + ": " + message;
}

PlacementResult<http::Response> PlacementClient::call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body,
                                                      std::initializer_list<int> okStatuses) {
  auto log = logger("placement");
  log->debug("placement call: {} {}{}{}", method, path, body.empty() ? "" : " ", body);
  auto resp = transport_.send(method, path, body);
  if (!resp) {
    log->debug("placement call: {} {} -> no answer: {}", method, path, resp.error().toString());
    return PlacementError{0, "", resp.error().toString()};
  }
  log->debug("placement call: {} {} -> {}", method, path, resp->status);
  if (std::find(okStatuses.begin(), okStatuses.end(), resp->status) == okStatuses.end()) {
    return PlacementError{resp->status, errorCode(*resp),
                          method + " " + path + ": " + errorDetail(*resp)};
  }
  return std::move(*resp);
}

PlacementResult<std::optional<ProviderRecord>> PlacementClient::findProviderByName(
    const std::string& name) {
  // Provider names may hold any character; encode the few that break a query.
  std::string encoded;
  for (const unsigned char c : name) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      constexpr std::string_view kHex = "0123456789ABCDEF";
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  ASSIGN_OR_RETURN(auto resp, call("GET", "/resource_providers?name=" + encoded, "", {200}));
  ASSIGN_OR_RETURN(auto records, recordsFrom("GET /resource_providers?name=", resp));
  if (records.empty()) return std::optional<ProviderRecord>();
  return std::optional<ProviderRecord>(std::move(records.front()));
}

PlacementResult<std::optional<ProviderRecord>> PlacementClient::getProvider(
    const std::string& uuid) {
  ASSIGN_OR_RETURN(auto resp, call("GET", "/resource_providers/" + uuid, "", {200, 404}));
  if (resp.status == 404) return std::optional<ProviderRecord>();
  ASSIGN_OR_RETURN(auto record, recordFrom("GET /resource_providers/" + uuid, resp));
  return std::optional<ProviderRecord>(std::move(record));
}

PlacementResult<std::vector<ProviderRecord>> PlacementClient::listTree(
    const std::string& rootUuid) {
  ASSIGN_OR_RETURN(auto resp, call("GET", "/resource_providers?in_tree=" + rootUuid, "", {200}));
  return recordsFrom("GET /resource_providers?in_tree=", resp);
}

PlacementResult<ProviderRecord> PlacementClient::createProvider(const std::string& name,
                                                                const std::string& uuid,
                                                                const std::string& parentUuid) {
  json body = {{"name", name}};
  if (!uuid.empty()) body["uuid"] = uuid;
  if (!parentUuid.empty()) body["parent_provider_uuid"] = parentUuid;
  ASSIGN_OR_RETURN(auto resp, call("POST", "/resource_providers", body.dump(), {200}));
  return recordFrom("POST /resource_providers", resp);
}

PlacementResult<ProviderRecord> PlacementClient::updateProvider(const std::string& uuid,
                                                                const std::string& name,
                                                                const std::string& parentUuid) {
  json body = {{"name", name}};
  body["parent_provider_uuid"] = parentUuid.empty() ? json(nullptr) : json(parentUuid);
  ASSIGN_OR_RETURN(auto resp, call("PUT", "/resource_providers/" + uuid, body.dump(), {200}));
  return recordFrom("PUT /resource_providers/" + uuid, resp);
}

PlacementStatus PlacementClient::deleteProvider(const std::string& uuid) {
  RETURN_IF_ERROR(call("DELETE", "/resource_providers/" + uuid, "", {204, 404}));
  return {};
}

PlacementResult<Generational<std::set<std::string>>> PlacementClient::getTraits(
    const std::string& uuid) {
  const std::string path = "/resource_providers/" + uuid + "/traits";
  ASSIGN_OR_RETURN(auto resp, call("GET", path, "", {200}));
  auto doc = parseBody(resp.body);
  if (!doc) return malformed("GET " + path, resp);
  try {
    Generational<std::set<std::string>> out;
    out.generation = doc->at("resource_provider_generation").get<int64_t>();
    for (const auto& t : doc->at("traits")) out.value.insert(t.get<std::string>());
    return out;
  } catch (const json::exception&) {
    return malformed("GET " + path, resp);
  }
}

PlacementResult<int64_t> PlacementClient::putTraits(const std::string& uuid, int64_t generation,
                                                    const std::set<std::string>& traits) {
  const std::string path = "/resource_providers/" + uuid + "/traits";
  const json body = {{"resource_provider_generation", generation},
                     {"traits", json(std::vector<std::string>(traits.begin(), traits.end()))}};
  ASSIGN_OR_RETURN(auto resp, call("PUT", path, body.dump(), {200}));
  return generationFrom("PUT " + path, resp);
}

PlacementResult<Generational<Inventories>> PlacementClient::getInventories(
    const std::string& uuid) {
  const std::string path = "/resource_providers/" + uuid + "/inventories";
  ASSIGN_OR_RETURN(auto resp, call("GET", path, "", {200}));
  auto doc = parseBody(resp.body);
  if (!doc) return malformed("GET " + path, resp);
  try {
    Generational<Inventories> out;
    out.generation = doc->at("resource_provider_generation").get<int64_t>();
    for (const auto& [rc, inv] : doc->at("inventories").items()) {
      InventoryRecord record;
      record.total = inv.at("total").get<int64_t>();
      record.reserved = inv.value("reserved", int64_t{0});
      record.minUnit = inv.value("min_unit", int64_t{1});
      record.maxUnit = inv.value("max_unit", int64_t{2147483647});
      record.stepSize = inv.value("step_size", int64_t{1});
      record.allocationRatio = inv.value("allocation_ratio", 1.0);
      out.value[rc] = record;
    }
    return out;
  } catch (const json::exception&) {
    return malformed("GET " + path, resp);
  }
}

PlacementResult<int64_t> PlacementClient::putInventories(const std::string& uuid,
                                                         int64_t generation,
                                                         const Inventories& inventories) {
  const std::string path = "/resource_providers/" + uuid + "/inventories";
  const json body = {{"resource_provider_generation", generation},
                     {"inventories", inventoriesJson(inventories)}};
  ASSIGN_OR_RETURN(auto resp, call("PUT", path, body.dump(), {200}));
  return generationFrom("PUT " + path, resp);
}

PlacementResult<std::set<std::string>> PlacementClient::existingTraits(
    const std::set<std::string>& names) {
  std::set<std::string> found;
  if (names.empty()) return found;
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ",") + name;
  ASSIGN_OR_RETURN(auto resp, call("GET", "/traits?name=in:" + list, "", {200}));
  auto doc = parseBody(resp.body);
  if (!doc) return malformed("GET /traits", resp);
  try {
    for (const auto& t : doc->at("traits")) found.insert(t.get<std::string>());
  } catch (const json::exception&) {
    return malformed("GET /traits", resp);
  }
  return found;
}

PlacementStatus PlacementClient::createTrait(const std::string& name) {
  RETURN_IF_ERROR(call("PUT", "/traits/" + name, "", {201, 204}));
  return {};
}

}  // namespace bwfloor::agent
