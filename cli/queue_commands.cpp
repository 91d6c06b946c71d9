// bwfloorctl queues: what this host's agent enforces, read from its local status socket.
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/status/status_socket.h"
#include "cli/runner.h"
#include "cli/table.h"

namespace bwfloor::cli {
namespace {

using nlohmann::json;

// "1000 / 1321" (guaranteed / achieved kbit/s), "-" when nothing is counted there.
std::string rateCell(const json& binding, const char* direction, const char* minKey) {
  const json& c = binding[direction];
  const std::string min = std::to_string(binding.value(minKey, 0));
  if (c.is_null()) return binding.value(minKey, 0) == 0 ? "-" : min + " / -";
  return min + " / " + (c["rate_kbps"].is_null() ? "?" : c["rate_kbps"].dump());
}

std::string dropsCell(const json& binding) {
  uint64_t drops = 0;
  uint64_t overlimits = 0;
  for (const char* d : {"egress", "ingress"}) {
    if (binding[d].is_null()) continue;
    drops += binding[d].value("drops", uint64_t{0});
    overlimits += binding[d].value("overlimits", uint64_t{0});
  }
  return std::to_string(drops) + " / " + std::to_string(overlimits);
}

std::string withDetail(const json& s) {
  const std::string state = s.value("state", "");
  const std::string detail = s.value("detail", "");
  return detail.empty() ? state : state + " (" + detail + ")";
}

// The overall state, or each direction's when they differ (enforced egress, placement-only
// ingress).
std::string stateCell(const json& b) {
  const json& egress = b.contains("egress_state") ? b["egress_state"] : json();
  const json& ingress = b.contains("ingress_state") ? b["ingress_state"] : json();
  if (egress.is_object() && ingress.is_object() && egress != ingress) {
    return "egress " + withDetail(egress) + "; ingress " + withDetail(ingress);
  }
  return withDetail(b);
}

// Seconds in which the guarantee did not hold (guarantee_monitor.h), per direction; "-" where
// no minimum is watched.
std::string missedCell(const json& binding) {
  std::string out;
  for (const char* d : {"egress", "ingress"}) {
    const json& c = binding[d];
    if (c.is_null() || !c.contains("guarantee_missed_seconds")) continue;
    if (!out.empty()) out += " / ";
    out += std::to_string(std::lround(c["guarantee_missed_seconds"].get<double>()));
    if (c.value("guarantee_missing_now", false)) out += " NOW";
  }
  return out.empty() ? "-" : out;
}

int runQueues(Runner& runner, const std::string& socketPath) {
  auto text = agent::readStatusSocket(socketPath);
  if (!text) {
    std::cerr << "bwfloorctl: " << text.error().message()
              << " (is bwfloor-agent running on this host? see [agent] status_socket)\n";
    return 1;
  }
  const json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.contains("bindings")) {
    std::cerr << "bwfloorctl: " << socketPath << " did not answer a status document\n";
    return 1;
  }
  if (runner.options().json) {
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : doc["bindings"]) {
    rows.push_back({b.value("port_name", ""), b.value("device", ""),
                    b.value("uplink", "").empty() ? "-" : b.value("uplink", ""),
                    b.value("backend", "").empty() ? "-" : b.value("backend", ""),
                    rateCell(b, "egress", "min_egress_kbps"),
                    rateCell(b, "ingress", "min_ingress_kbps"), dropsCell(b), missedCell(b),
                    stateCell(b)});
  }
  std::cout << "host " << doc.value("host", "?") << ": " << rows.size() << " bound port(s)\n";
  // What "missed s" counts, so the table explains itself.
  std::cout << "missed s: seconds below the minimum while wanting more on a saturated uplink "
               "(0: the guarantee held)\n";
  printTable(std::cout,
             {"port", "device", "uplink", "backend", "egress min/now kbit/s",
              "ingress min/now kbit/s", "drops/overlimits", "missed s", "state"},
             rows);
  // Packet rate: claimed in placement only (no data plane has a mechanism for it).
  for (const auto& b : doc["bindings"]) {
    const json& pr = b.contains("packet_rate") ? b["packet_rate"] : json();
    if (!pr.is_object()) continue;
    for (const auto& [direction, s] : pr.items()) {
      std::cout << "packet rate " << b.value("port_name", "") << " " << direction << ": min "
                << s.value("min_kpps", 0) << " kpps, " << withDetail(s) << "\n";
    }
  }
  for (const auto& c : doc.value("unguaranteed", json::array())) {
    std::cout << "unguaranteed " << c.value("direction", "") << " on " << c.value("device", "")
              << ": " << (c["rate_kbps"].is_null() ? "?" : c["rate_kbps"].dump())
              << " kbit/s, drops " << c.value("drops", 0) << "\n";
  }
  return 0;
}

}  // namespace

void registerQueueCommands(CLI::App& app, Runner& runner, int& exitCode) {
  auto socketPath = std::make_shared<std::string>("/run/bwfloor/agent.sock");
  auto* queues = app.add_subcommand(
      "queues",
      "This host's enforced guarantees: each bound port's backend, state per direction, "
      "guaranteed and achieved rates, drops, and the seconds the guarantee did not hold (from "
      "the local bwfloor-agent)");
  queues->add_option("--socket", *socketPath, "The agent's status socket ([agent] status_socket)")
      ->capture_default_str();
  queues->callback([&, socketPath] { exitCode = runQueues(runner, *socketPath); });
}

}  // namespace bwfloor::cli
