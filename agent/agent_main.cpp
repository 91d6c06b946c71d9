// bwfloor-agent: per-host agent. Reports the host's devices and, with the later issues, its
// provider tree to placement and enforces bound ports' minimum bandwidth.

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "agent/agent_config.h"
#include "core/logging.h"
#include "core/version.h"
#include "dataplane/netlink/netlink_link_source.h"
#include "http/client.h"

namespace {

int fail(const std::string& why) {
  std::cerr << "bwfloor-agent: " << why << "\n";
  return 1;
}

// One report: the links netlink shows and whether placement answers.
bool reportOnce(const bwfloor::agent::AgentConfig& config) {
  using namespace bwfloor;  // NOLINT(google-build-using-namespace)
  auto log = logger("agent");
  dataplane::NetlinkLinkSource links;
  auto list = links.listLinks();
  if (!list) {
    log->error("discovery failed: {}", list.error().toString());
    return false;
  }
  for (const auto& l : *list) {
    logger("discovery")
        ->info(
            "link ifindex={} name={} kind={} mac={} up={} carrier={} master={} speed_mbps={} "
            "vfs={}",
            l.ifindex, l.name, l.kind.empty() ? "-" : l.kind, l.mac.empty() ? "-" : l.mac, l.up,
            l.lowerUp, l.masterIfindex ? std::to_string(*l.masterIfindex) : "-",
            l.speedMbps ? std::to_string(*l.speedMbps) : "unknown", l.numVfs);
  }
  http::HttpClient client(http::parseUrl(config.placementEndpoint).value(),
                          std::chrono::seconds(5));
  http::Headers headers;
  headers.add("X-Auth-Token", config.placementToken);
  auto resp = client.send("GET", "/", headers);
  if (!resp || resp->status != 200) {
    log->warn("placement {} not reachable: {}", config.placementEndpoint,
              resp ? "HTTP " + std::to_string(resp->status) : resp.error().message());
    return false;
  }
  auto doc = nlohmann::json::parse(resp->body, nullptr, false);
  std::string maxVersion = doc.is_discarded() ? "?" : doc["versions"][0].value("max_version", "?");
  log->info("host={} placement={} max_version={} links={}", config.host, config.placementEndpoint,
            maxVersion, list->size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bwfloor-agent: reports this host's bandwidth to placement and enforces minimums",
               "bwfloor-agent"};
  app.set_version_flag("--version", std::string("bwfloor-agent ") + bwfloor::kVersion);
  std::string configPath = "/etc/bwfloor/agent.ini";
  app.add_option("--config", configPath, "Configuration file (INI)")->capture_default_str();
  bool once = false;
  app.add_flag("--once", once, "Report once and exit (non-zero if placement is unreachable)");
  std::string checkConfig;
  app.add_option("--check-config", checkConfig, "Validate FILE and exit (0 = valid)");
  CLI11_PARSE(app, argc, argv);

  using namespace bwfloor;  // NOLINT(google-build-using-namespace)
  if (!checkConfig.empty()) {
    auto config = agent::loadAgentConfig(checkConfig);
    if (!config) return fail(config.error().message());
    std::cout << checkConfig << ": ok (host " << config->host << ")\n";
    return 0;
  }
  auto config = agent::loadAgentConfig(configPath);
  if (!config) return fail(config.error().message());
  auto level = parseLogLevel(config->logLevel);
  if (!level) return fail(configPath + ": [DEFAULT] log_level: " + level.error().message());
  initLogging(LogOptions{*level});
  if (once) return reportOnce(*config) ? 0 : 1;

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  logger("agent")->info("bwfloor-agent {} host={} report_interval={}s", kVersion, config->host,
                        config->reportInterval.count());
  timespec timeout{static_cast<time_t>(config->reportInterval.count()), 0};
  while (true) {
    reportOnce(*config);
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      logger("agent")->info("signal {} received, stopping", sig);
      return 0;
    }
  }
}
