// `bwfloorctl provider tree|show`: the Placement view an operator needs at a glance (traits,
// inventories with usage, allocations), read through the Placement API.

#include <functional>
#include <map>

#include "cli/runner.h"
#include "http/message.h"

namespace bwfloor::cli {
namespace {

struct ProviderView {
  json provider;
  json inventories;
  json usages;
  json traits;
  json allocations;
};

std::optional<ProviderView> fetch(ApiClient& client, const json& p, bool withAllocations,
                                  std::string& error) {
  std::string base = "/placement/resource_providers/" + p["uuid"].get<std::string>();
  ProviderView v{p};
  auto get = [&](const std::string& path, json& out) {
    auto r = client.call("GET", base + path, nullptr, kPlacementVersion);
    if (!r) {
      error = r.error().message;
      return false;
    }
    out = *r;
    return true;
  };
  if (!get("/inventories", v.inventories) || !get("/usages", v.usages) ||
      !get("/traits", v.traits)) {
    return std::nullopt;
  }
  if (withAllocations && !get("/allocations", v.allocations)) return std::nullopt;
  return v;
}

std::string inventoryLine(const ProviderView& v) {
  std::string out;
  for (const auto& [rc, inv] : v.inventories["inventories"].items()) {
    int64_t used = v.usages["usages"].value(rc, 0);
    int64_t cap = static_cast<int64_t>(
        static_cast<double>(inv["total"].get<int64_t>() - inv["reserved"].get<int64_t>()) *
        inv["allocation_ratio"].get<double>());
    out += (out.empty() ? "" : ", ") + rc + " " + std::to_string(used) + "/" + std::to_string(cap);
    // The total was lowered below what is allocated: the guarantees cannot all hold.
    if (used > cap) out += " OVER-COMMITTED";
  }
  return out;
}

int runTree(Runner& runner) {
  auto client = runner.connect();
  if (!client) return 2;
  auto list = client->call("GET", "/placement/resource_providers", nullptr, kPlacementVersion);
  if (!list) {
    std::cerr << "bwfloorctl: " << list.error().message << "\n";
    return 1;
  }
  std::map<std::string, std::vector<json>> children;
  std::vector<json> roots;
  json views = json::array();
  std::map<std::string, ProviderView> byUuid;
  for (const auto& p : (*list)["resource_providers"]) {
    std::string error;
    auto v = fetch(*client, p, false, error);
    if (!v) {
      std::cerr << "bwfloorctl: " << error << "\n";
      return 1;
    }
    byUuid[p["uuid"]] = *v;
    views.push_back({{"provider", p},
                     {"inventories", v->inventories["inventories"]},
                     {"usages", v->usages["usages"]},
                     {"traits", v->traits["traits"]}});
    if (p["parent_provider_uuid"].is_null()) {
      roots.push_back(p);
    } else {
      children[p["parent_provider_uuid"]].push_back(p);
    }
  }
  if (runner.options().json) {
    std::cout << views.dump(2) << "\n";
    return 0;
  }
  std::function<void(const json&, const std::string&, bool, bool)> print =
      [&](const json& p, const std::string& prefix, bool last, bool root) {
        const ProviderView& v = byUuid[p["uuid"]];
        std::cout << prefix << (root ? "" : (last ? "└── " : "├── ")) << cell(p["name"]) << "  ["
                  << cell(p["uuid"]) << " gen " << cell(p["generation"]) << "]\n";
        std::string inner = prefix + (root ? "" : (last ? "    " : "│   "));
        std::string inv = inventoryLine(v);
        if (!inv.empty()) std::cout << inner << "    inventory (used/capacity): " << inv << "\n";
        if (!v.traits["traits"].empty()) {
          std::cout << inner << "    traits: " << cell(v.traits["traits"]) << "\n";
        }
        const auto& kids = children[p["uuid"]];
        for (size_t i = 0; i < kids.size(); ++i) print(kids[i], inner, i + 1 == kids.size(), false);
      };
  for (const auto& root : roots) print(root, "", true, true);
  if (roots.empty()) std::cout << "(no resource providers)\n";
  return 0;
}

int runShow(Runner& runner, const std::string& ref) {
  auto client = runner.connect();
  if (!client) return 2;
  auto r = client->call("GET", "/placement/resource_providers/" + http::percentEncode(ref), nullptr,
                        kPlacementVersion);
  json provider;
  if (r) {
    provider = *r;
  } else {
    auto byName =
        client->call("GET", "/placement/resource_providers?name=" + http::percentEncode(ref),
                     nullptr, kPlacementVersion);
    if (!byName || (*byName)["resource_providers"].empty()) {
      std::cerr << "bwfloorctl: no resource provider named or with uuid '" << ref << "'\n";
      return 1;
    }
    provider = (*byName)["resource_providers"][0];
  }
  std::string error;
  auto v = fetch(*client, provider, true, error);
  if (!v) {
    std::cerr << "bwfloorctl: " << error << "\n";
    return 1;
  }
  json out = provider;
  out.erase("links");
  out["traits"] = v->traits["traits"];
  out["inventories"] = v->inventories["inventories"];
  out["usages"] = v->usages["usages"];
  out["allocations"] = v->allocations["allocations"];
  if (runner.options().json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  printObject(
      std::cout, out,
      {"uuid", "name", "generation", "parent_provider_uuid", "root_provider_uuid", "traits"});
  std::vector<std::vector<std::string>> rows;
  for (const auto& [rc, inv] : out["inventories"].items()) {
    rows.push_back({rc, cell(inv["total"]), cell(inv["reserved"]), cell(inv["min_unit"]),
                    cell(inv["max_unit"]), cell(inv["step_size"]), cell(inv["allocation_ratio"]),
                    cell(out["usages"].value(rc, json(0)))});
  }
  printTable(std::cout,
             {"resource_class", "total", "reserved", "min_unit", "max_unit", "step_size",
              "allocation_ratio", "used"},
             rows);
  rows.clear();
  for (const auto& [consumer, a] : out["allocations"].items()) {
    rows.push_back({consumer, cell(a["resources"])});
  }
  if (!rows.empty()) printTable(std::cout, {"consumer", "resources"}, rows);
  return 0;
}

}  // namespace

void registerProviderCommands(CLI::App& app, Runner& runner, int& exitCode) {
  auto* provider =
      app.add_subcommand("provider", "Resource providers in placement")->require_subcommand(1);
  provider
      ->add_subcommand("tree", "Every provider tree with inventories (used/capacity) and traits")
      ->callback([&] { exitCode = runTree(runner); });
  auto ref = std::make_shared<std::string>();
  auto* show =
      provider->add_subcommand("show", "One provider: traits, inventories, usage, allocations");
  show->add_option("PROVIDER", *ref, "Provider name or uuid")->required();
  show->callback([&, ref] { exitCode = runShow(runner, *ref); });
}

}  // namespace bwfloor::cli
