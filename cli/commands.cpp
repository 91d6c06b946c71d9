#include "cli/commands.h"

#include <iostream>
#include <map>

#include "cli/runner.h"
#include "cli/table.h"
#include "http/message.h"

namespace bwfloor::cli {
namespace {

struct Crud {
  std::string noun;        // "network"
  std::string collection;  // "networks"
  std::vector<std::string> listFields;
  std::vector<std::string> showFields;
};

// list / show / delete for one /v1 collection.
void addReadDelete(CLI::App& group, const Crud& c, Runner& runner, int& exitCode) {
  auto* list = group.add_subcommand("list", "List " + c.collection);
  list->callback([&runner, &exitCode, c] {
    exitCode = runner.call("GET", "/v1/" + c.collection, nullptr,
                           [c](const json& d) { listPrinter(d, c.collection, c.listFields); });
  });
  auto ref = std::make_shared<std::string>();
  auto* show = group.add_subcommand("show", "Show a " + c.noun);
  show->add_option("NAME", *ref, c.noun + " name or id")->required();
  show->callback([&runner, &exitCode, c, ref] {
    exitCode = runner.call("GET", "/v1/" + c.collection + "/" + http::percentEncode(*ref), nullptr,
                           [c](const json& d) { printObject(std::cout, d, c.showFields); });
  });
  auto delRef = std::make_shared<std::string>();
  auto* del = group.add_subcommand("delete", "Delete a " + c.noun);
  del->add_option("NAME", *delRef, c.noun + " name or id")->required();
  del->callback([&runner, &exitCode, c, delRef] {
    exitCode = runner.call(
        "DELETE", "/v1/" + c.collection + "/" + http::percentEncode(*delRef), nullptr,
        [c, delRef](const json&) { std::cout << c.noun << " " << *delRef << " deleted\n"; });
  });
}

}  // namespace

void registerCommands(CLI::App& app, GlobalOptions& options, int& exitCode) {
  // Commands run after registration, from app.parse(): the runner must outlive this call.
  static std::unique_ptr<Runner> runner;
  runner = std::make_unique<Runner>(options);
  Runner& r = *runner;

  auto* status =
      app.add_subcommand("status", "Show whether the server answers and its API versions");
  status->callback([&] {
    exitCode = r.call("GET", "/placement/", nullptr, [&](const json& d) {
      const auto& v = d["versions"][0];
      std::cout << "server:    " << options.server << "\nplacement: " << cell(v["min_version"])
                << " .. " << cell(v["max_version"]) << " (" << cell(v["status"]) << ")\n";
    });
  });

  // network
  auto* network =
      app.add_subcommand("network", "Networks (name, physnet, segment)")->require_subcommand(1);
  Crud net{"network",
           "networks",
           {"id", "name", "physnet", "segmentation_id"},
           {"id", "name", "network_type", "physnet", "segmentation_id"}};
  {
    auto* create = network->add_subcommand("create", "Create a network on a physical network");
    auto name = std::make_shared<std::string>();
    auto physnet = std::make_shared<std::string>();
    auto segment = std::make_shared<int>(0);
    auto type = std::make_shared<std::string>("vlan");
    create->add_option("NAME", *name, "Network name")->required();
    create->add_option("--physnet", *physnet, "Physical network (as in bridge_mappings)")
        ->required();
    create->add_option("--segment", *segment, "VLAN id 1..4094");
    create->add_option("--type", *type, "vlan or flat")->check(CLI::IsMember({"vlan", "flat"}));
    create->callback([&, name, physnet, segment, type, net] {
      json body = {{"name", *name}, {"physnet", *physnet}, {"network_type", *type}};
      if (*segment != 0) body["segmentation_id"] = *segment;
      exitCode = r.call("POST", "/v1/networks", body,
                        [net](const json& d) { printObject(std::cout, d, net.showFields); });
    });
  }
  addReadDelete(*network, net, r, exitCode);

  // qos policy / qos rule
  auto* qos = app.add_subcommand("qos", "QoS policies and their rules")->require_subcommand(1);
  auto* policy = qos->add_subcommand("policy", "QoS policies")->require_subcommand(1);
  Crud pol{"qos policy", "qos_policies", {"id", "name", "rules"}, {"id", "name", "rules"}};
  {
    auto* create = policy->add_subcommand("create", "Create a QoS policy");
    auto name = std::make_shared<std::string>();
    create->add_option("NAME", *name, "Policy name")->required();
    create->callback([&, name, pol] {
      exitCode = r.call("POST", "/v1/qos_policies", {{"name", *name}},
                        [pol](const json& d) { printObject(std::cout, d, pol.showFields); });
    });
  }
  addReadDelete(*policy, pol, r, exitCode);
  auto* rule = qos->add_subcommand("rule", "QoS rules")->require_subcommand(1);
  {
    auto* create = rule->add_subcommand("create", "Add a rule to a policy");
    auto pname = std::make_shared<std::string>();
    auto type = std::make_shared<std::string>();
    auto minKbps = std::make_shared<int64_t>(0);
    auto maxKbps = std::make_shared<int64_t>(0);
    auto minKpps = std::make_shared<int64_t>(0);
    auto egress = std::make_shared<bool>(false);
    auto ingress = std::make_shared<bool>(false);
    auto direction = std::make_shared<std::string>();
    create->add_option("POLICY", *pname, "Policy name or id")->required();
    create->add_option("--type", *type, "minimum-bandwidth, bandwidth-limit or minimum-packet-rate")
        ->required()
        ->check(CLI::IsMember({"minimum-bandwidth", "bandwidth-limit", "minimum-packet-rate"}));
    create->add_option("--min-kbps", *minKbps, "Guaranteed rate, kbit/s (minimum-bandwidth)");
    create->add_option("--max-kbps", *maxKbps, "Ceiling, kbit/s (bandwidth-limit)");
    create->add_option("--min-kpps", *minKpps,
                       "Guaranteed packet rate, kilo-packets/s (minimum-packet-rate; claimed in "
                       "placement on the host's Open vSwitch agent provider, no data plane)");
    auto* e = create->add_flag("--egress", *egress, "From the VM (default)");
    auto* i = create->add_flag("--ingress", *ingress, "Towards the VM")->excludes(e);
    create
        ->add_option("--direction", *direction,
                     "egress (default), ingress, or any (minimum-packet-rate only: one total "
                     "for both directions)")
        ->check(CLI::IsMember({"egress", "ingress", "any"}))
        ->excludes(e)
        ->excludes(i);
    create->callback([&, pname, type, minKbps, maxKbps, minKpps, egress, ingress, direction] {
      static const std::map<std::string, std::pair<const char*, const char*>> kTypes = {
          {"minimum-bandwidth", {"minimum_bandwidth", "min_kbps"}},
          {"bandwidth-limit", {"bandwidth_limit", "max_kbps"}},
          {"minimum-packet-rate", {"minimum_packet_rate", "min_kpps"}}};
      const auto& [apiType, rateField] = kTypes.at(*type);
      const std::string dir = !direction->empty() ? *direction : *ingress ? "ingress" : "egress";
      json body = {{"type", apiType}, {"direction", dir}};
      const std::string field = rateField;
      body[field] = field == "min_kbps" ? *minKbps : field == "max_kbps" ? *maxKbps : *minKpps;
      exitCode = r.call("POST", "/v1/qos_policies/" + http::percentEncode(*pname) + "/rules", body,
                        [](const json& d) { printObject(std::cout, d); });
    });
    auto* set =
        rule->add_subcommand("set", "Change a rule's rate (bound ports follow or nothing changes)");
    auto spol = std::make_shared<std::string>();
    auto sid = std::make_shared<std::string>();
    auto smin = std::make_shared<int64_t>(0);
    auto smax = std::make_shared<int64_t>(0);
    set->add_option("POLICY", *spol, "Policy name or id")->required();
    set->add_option("RULE_ID", *sid, "Rule id")->required();
    set->add_option("--min-kbps", *smin, "New guaranteed rate, kbit/s");
    set->add_option("--max-kbps", *smax, "New ceiling, kbit/s");
    auto skpps = std::make_shared<int64_t>(0);
    set->add_option("--min-kpps", *skpps,
                    "New guaranteed packet rate, kpps (only while no bound port uses the policy)");
    set->callback([&, spol, sid, smin, smax, skpps] {
      json body = *skpps  ? json{{"min_kpps", *skpps}}
                  : *smin ? json{{"min_kbps", *smin}}
                          : json{{"max_kbps", *smax}};
      exitCode = r.call(
          "PUT",
          "/v1/qos_policies/" + http::percentEncode(*spol) + "/rules/" + http::percentEncode(*sid),
          body, [](const json& d) { printObject(std::cout, d); });
    });
  }

  // port
  auto* port = app.add_subcommand("port", "Ports")->require_subcommand(1);
  Crud prt{"port",
           "ports",
           {"id", "name", "mac_address", "vnic_type", "binding_host", "status"},
           {"id",
            "name",
            "network_id",
            "mac_address",
            "vnic_type",
            "qos_policy_id",
            "resource_request",
            "binding_host",
            "binding_profile/allocation",
            "binding_device",
            "device_id",
            "status",
            "binding_status/state",
            "binding_status/detail",
            "binding_status/egress/state",
            "binding_status/egress/detail",
            "binding_status/ingress/state",
            "binding_status/ingress/detail",
            "binding_profile/packet_rate_allocation",
            "binding_status/packet_rate/egress/state",
            "binding_status/packet_rate/ingress/state",
            "binding_status/packet_rate/any/state",
            "binding_status/packet_rate/any/detail"}};
  {
    auto* create = port->add_subcommand("create", "Create a port");
    auto name = std::make_shared<std::string>();
    auto network = std::make_shared<std::string>();
    auto vnic = std::make_shared<std::string>("normal");
    auto qosPolicy = std::make_shared<std::string>();
    auto mac = std::make_shared<std::string>();
    create->add_option("NAME", *name, "Port name")->required();
    create->add_option("--network", *network, "Network name or id")->required();
    create->add_option("--vnic-type", *vnic, "normal, direct, macvtap or direct-physical")
        ->check(CLI::IsMember({"normal", "direct", "macvtap", "direct-physical"}));
    create->add_option("--qos-policy", *qosPolicy, "QoS policy name or id");
    create->add_option("--mac", *mac, "MAC address (default: random fa:16:3e:...)");
    create->callback([&, name, network, vnic, qosPolicy, mac, prt] {
      json body = {{"name", *name}, {"network", *network}, {"vnic_type", *vnic}};
      if (!qosPolicy->empty()) body["qos_policy"] = *qosPolicy;
      if (!mac->empty()) body["mac_address"] = *mac;
      exitCode = r.call("POST", "/v1/ports", body,
                        [prt](const json& d) { printObject(std::cout, d, prt.showFields); });
    });
  }
  addReadDelete(*port, prt, r, exitCode);

  // server
  auto* server =
      app.add_subcommand("server", "Servers (a consumer with ports)")->require_subcommand(1);
  Crud srv{"server",
           "servers",
           {"id", "name", "host", "status"},
           {"id", "name", "host", "status", "ports"}};
  {
    auto* create = server->add_subcommand(
        "create", "Schedule, claim and bind a server's ports; exit 0 once the agent enforces them");
    auto name = std::make_shared<std::string>();
    auto ports = std::make_shared<std::vector<std::string>>();
    auto host = std::make_shared<std::string>();
    auto pack = std::make_shared<bool>(false);
    create->add_option("NAME", *name, "Server name")->required();
    create->add_option("--port", *ports, "Port name or id (repeatable)")->required();
    create->add_option("--host", *host, "Target host (default: any host with room)");
    create->add_flag("--pack", *pack, "Prefer the fullest device (default: spread)");
    create->callback([&, name, ports, host, pack, srv] {
      json body = {{"name", *name}, {"ports", *ports}, {"strategy", *pack ? "pack" : "spread"}};
      if (!host->empty()) body["host"] = *host;
      if (!options.json) std::cerr << "scheduling " << *name << " and waiting for the agent...\n";
      exitCode = r.call("POST", "/v1/servers", body,
                        [srv](const json& d) { printObject(std::cout, d, srv.showFields); });
    });
  }
  addReadDelete(*server, srv, r, exitCode);

  // agent
  auto* agent =
      app.add_subcommand("agent", "Agents and their reported configuration")->require_subcommand(1);
  Crud agt{"agent",
           "agents",
           {"id", "agent_type", "host", "alive", "resources_synced"},
           {"id", "agent_type", "host", "binary", "alive", "resources_synced", "configurations"}};
  addReadDelete(*agent, agt, r, exitCode);

  registerProviderCommands(app, r, exitCode);
  registerQueueCommands(app, r, exitCode);
}

}  // namespace bwfloor::cli
