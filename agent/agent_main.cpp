// bwfloor-agent: per-host agent. Discovers the host's devices, keeps its provider tree in
// placement right (AgentService), sends heartbeats to bwfloor-server, and enforces the port
// bindings the server gives this host (BindingLoop).
//
// Threads and signals: the main thread runs the report loop; a second thread runs the binding
// loop (its long-polls block), reading where to enforce from an EnforcementBoard the main thread
// publishes after every discovery. SIGHUP (reload), SIGINT and SIGTERM are blocked before any
// thread exists and read from a signalfd in the poll loop, so libopenvswitch's own handlers
// (installed by the OVSDB reader) never see them (DEVELOPERS.md).

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "agent/agent_service.h"
#include "agent/binding/binding_loop.h"
#include "agent/binding/dataplane_watch.h"
#include "agent/binding/enforcement_points.h"
#include "agent/config/agent_config.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/status/status_socket.h"
#include "core/cli_completion.h"
#include "core/config_files_cli.h"
#include "core/logging.h"
#include "core/version.h"
#include "dataplane/netlink/netlink_link_source.h"
#include "dataplane/netlink/tc_change_netlink.h"
#include "dataplane/ovs/ovs_queue_backend.h"
#include "dataplane/ovs/ovsdb_bridge_reader.h"
#include "dataplane/ovs/ovsdb_idl_qos_api.h"
#include "dataplane/sriov/mnl_vf_api.h"
#include "dataplane/sriov/vf_rate_backend.h"
#include "dataplane/tc/htb_backend.h"
#include "dataplane/tc/libnl_tc_api.h"
#include "http/client.h"
#include "http/server.h"

namespace {

using namespace bwfloor;         // NOLINT(google-build-using-namespace)
using namespace bwfloor::agent;  // NOLINT(google-build-using-namespace)

constexpr std::chrono::seconds kPlacementTimeout{10};
constexpr std::chrono::seconds kServerTimeout{5};

int fail(const std::string& why) {
  std::cerr << "bwfloor-agent: " << why << "\n";
  return 1;
}

AgentServiceDeps makeDeps(dataplane::LinkSource& links, Clock& clock) {
  AgentServiceDeps deps;
  deps.links = &links;
  deps.clock = &clock;
  deps.makeOvsSource = [](const AgentConfig& config) {
    return std::make_unique<dataplane::OvsdbBridgeReader>(config.ovsdbConnection);
  };
  // Both URLs were validated when the configuration was read.
  deps.makePlacementTransport = [](const AgentConfig& config) -> std::unique_ptr<RestTransport> {
    return std::make_unique<HttpRestTransport>(http::parseUrlList(config.placementEndpoint).value(),
                                               config.placementToken, kPlacementMicroversion,
                                               kPlacementTimeout, http::ClientTls{config.caFile});
  };
  deps.makeServerTransport = [](const AgentConfig& config) -> std::unique_ptr<RestTransport> {
    return std::make_unique<HttpRestTransport>(http::parseUrlList(config.serverEndpoint).value(),
                                               config.placementToken, "", kServerTimeout,
                                               http::ClientTls{config.caFile});
  };
  return deps;
}

Status applyLogLevel(const AgentConfig& config) {
  ASSIGN_OR_RETURN(auto options,
                   logOptionsFromConfig(config.logLevel, config.debug, config.useJson));
  initLogging(options);
  return {};
}

// Loads the files; keys no option reads are logged as warnings (file:line, the closest key).
Result<AgentConfig> loadLogged(const std::vector<std::string>& paths) {
  std::vector<std::string> unknown;
  auto config = loadAgentConfig(paths, &unknown);
  for (const auto& line : unknown) logger("agent")->warn("{}", line);
  return config;
}

// SIGHUP: re-read the files; a bad file is refused and the running configuration kept.
void reload(const std::vector<std::string>& paths, AgentService& service) {
  auto config = loadLogged(paths);
  if (!config) {
    logger("agent")->error("configuration reload refused, keeping the running one: {}",
                           config.error().message());
    return;
  }
  const AgentConfig& running = service.config();
  if (config->logLevel != running.logLevel || config->debug != running.debug ||
      config->useJson != running.useJson) {
    (void)applyLogLevel(*config);
  }
  service.reloadConfig(std::move(*config));
}

// The smallest of the devices' floors (dataplane::unguaranteedFloor): one rate per backend.
Kbps unguaranteedFloor(Kbps current, Kbps total) {
  if (total.isZero()) return current;
  return std::min(current, dataplane::unguaranteedFloor(total));
}

// A backend that cannot start leaves its points unenforced; the agent runs on (the bindings on
// them report why).
void logDisabled(const char* what, const Error& why) {
  logger("agent")->error("{} enforcement disabled: {}", what, why.toString());
}

// One VfRateBackend over every PF that has an "sriov" point.
void addVfBackend(const EnforcementPoints& points,
                  std::vector<std::unique_ptr<dataplane::QosBackend>>& backends) {
  dataplane::sriov::VfRateBackendConfig vf;
  for (const auto& [key, point] : points) {
    if (point.backend == "sriov") vf.devices.push_back(point.uplink);
  }
  if (vf.devices.empty()) return;
  if (auto st = dataplane::sriov::validateVfRateConfig(vf); !st)
    return logDisabled("VF rate", st.error());
  auto api = dataplane::sriov::MnlVfApi::open();
  if (!api) return logDisabled("VF rate", api.error());
  backends.push_back(std::make_unique<dataplane::sriov::VfRateBackend>(
      std::move(vf), std::shared_ptr<dataplane::sriov::VfApi>(std::move(*api))));
}

// The send buffer of ovs-vswitchd's one AF_PACKET socket: it takes net.core.wmem_default when
// it starts, and we share its network namespace. The kernel's default when unreadable.
uint64_t ovsSenderBufferBytes() {
  constexpr uint64_t kKernelDefault = 212992;
  std::ifstream in("/proc/sys/net/core/wmem_default");
  uint64_t bytes = 0;
  if (in >> bytes && bytes > 0) return bytes;
  logger("agent")->warn("cannot read /proc/sys/net/core/wmem_default; assuming {} bytes",
                        kKernelDefault);
  return kKernelDefault;
}

// The part of ovs-vswitchd's send buffer each userspace-datapath uplink may fill with its leaves:
// the one socket serves them all, whichever backend shapes them (tc/htb_layout.h).
uint64_t senderBufferShare(const EnforcementPoints& points) {
  const auto shared = std::count_if(points.begin(), points.end(), [](const auto& entry) {
    return !entry.second.backend.empty() && entry.second.sharedSender;
  });
  return shared == 0 ? 0 : ovsSenderBufferBytes() / static_cast<uint64_t>(shared);
}

// One OvsQueueBackend over every bridge that has an "ovs" point.
void addOvsQueueBackend(const EnforcementPoints& points, const std::string& ovsdb,
                        std::vector<std::unique_ptr<dataplane::QosBackend>>& backends) {
  dataplane::OvsQueueBackendConfig ovs;
  ovs.netdevSenderBufferBytes = senderBufferShare(points);
  for (const auto& [key, point] : points) {
    if (point.backend != "ovs") continue;
    ovs.bridges.push_back({point.uplink, point.egressTotal});
    ovs.defaultQueueRate = unguaranteedFloor(ovs.defaultQueueRate, point.egressTotal);
  }
  if (ovs.bridges.empty()) return;
  if (auto st = dataplane::validateOvsQueueConfig(ovs); !st)
    return logDisabled("OVS queue", st.error());
  auto tc = dataplane::tc::LibnlTcApi::open();
  if (!tc) return logDisabled("OVS queue", tc.error());
  backends.push_back(std::make_unique<dataplane::OvsQueueBackend>(
      std::move(ovs), std::make_shared<dataplane::OvsdbIdlQosApi>(ovsdb),
      std::shared_ptr<dataplane::tc::TcApi>(std::move(*tc))));
}

// One HtbBackend over every uplink that has an "htb" point (totals = the bridge's inventory).
// Uplinks of OVS userspace-datapath bridges share ovs-vswitchd's one sending socket, so each gets
// an equal part of its send buffer for its leaves (tc/htb_layout.h).
void addHtbBackend(const EnforcementPoints& points,
                   std::vector<std::unique_ptr<dataplane::QosBackend>>& backends) {
  dataplane::tc::HtbBackendConfig htb;
  const uint64_t bufferShare = senderBufferShare(points);
  for (const auto& [key, point] : points) {
    if (point.backend != "htb") continue;
    htb.devices.push_back({point.uplink, point.egressTotal, point.ingressTotal, point.ingressWhyNot,
                           point.sharedSender ? bufferShare : 0});
    if (point.sharedSender) {
      logger("agent")->info(
          "HTB on {}: OVS userspace datapath, every class gets a pfifo leaf sized to {} bytes of "
          "ovs-vswitchd's send buffer (its uplinks share it)",
          point.uplink, bufferShare);
    }
    for (const Kbps total : {point.egressTotal, point.ingressTotal}) {
      htb.defaultClassRate = unguaranteedFloor(htb.defaultClassRate, total);
    }
  }
  if (htb.devices.empty()) return;
  if (auto st = dataplane::tc::validateHtbConfig(htb); !st) return logDisabled("HTB", st.error());
  auto api = dataplane::tc::LibnlTcApi::open();
  if (!api) return logDisabled("HTB", api.error());
  backends.push_back(std::make_unique<dataplane::tc::HtbBackend>(
      std::move(htb), std::shared_ptr<dataplane::tc::TcApi>(std::move(*api))));
}

std::vector<std::unique_ptr<dataplane::QosBackend>> makeBackends(const EnforcementPoints& points,
                                                                 const std::string& ovsdb) {
  std::vector<std::unique_ptr<dataplane::QosBackend>> backends;
  addVfBackend(points, backends);
  addOvsQueueBackend(points, ovsdb, backends);
  addHtbBackend(points, backends);
  return backends;
}

void publishPoints(const AgentService& service, EnforcementBoard& board) {
  board.publish(computeEnforcementPoints(service.desiredTree(), service.hostView(),
                                         service.config().ovsQosBackend,
                                         service.config().ovsUserspaceMax));
}

int runLoop(const std::vector<std::string>& paths, AgentService& service,
            dataplane::LinkSource& links, int signalFd, int deletedFd, EnforcementBoard& board,
            AgentHealth& health) {
  auto log = logger("agent");
  while (true) {
    const auto wait = service.runDue();
    publishPoints(service, board);
    health.setPlacementSynced(service.resourcesSynced());
    const int timeoutMs = static_cast<int>(std::min<int64_t>(wait.count(), INT_MAX));
    // The link source's fd last: -1 (no link events) is then simply left out.
    std::array<pollfd, 3> fds{pollfd{signalFd, POLLIN, 0}, pollfd{deletedFd, POLLIN, 0},
                              pollfd{links.eventFd(), POLLIN, 0}};
    const nfds_t count = fds[2].fd >= 0 ? 3 : 2;
    if (poll(fds.data(), count, timeoutMs) < 0 && errno != EINTR) {
      log->critical("poll failed: {}", std::strerror(errno));
      return 1;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (read(signalFd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        if (info.ssi_signo == SIGHUP) {
          log->info("SIGHUP received: reloading {}", joinedPaths(paths));
          reload(paths, service);
        } else {
          log->info("signal {} received, stopping", info.ssi_signo);
          return 0;
        }
      }
    }
    if ((fds[1].revents & POLLIN) != 0) {
      uint64_t times = 0;
      if (read(deletedFd, &times, sizeof(times)) == static_cast<ssize_t>(sizeof(times))) {
        service.providersDeletedInPlacement();
      }
    }
    if (count == 3 && (fds[2].revents & (POLLIN | POLLERR)) != 0) service.handleLinkEvents();
    publishPoints(service, board);
    health.setPlacementSynced(service.resourcesSynced());
  }
}

int runAgent(const std::vector<std::string>& paths, bool once) {
  // Blocked before any thread exists, so every later thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::vector<std::string> unknown;
  auto config = loadAgentConfig(paths, &unknown);
  if (!config) return fail(config.error().message());
  if (auto st = applyLogLevel(*config); !st) return fail(st.error().message());
  logger("agent")->info("bwfloor-agent {} starting, config={}", kVersion, joinedPaths(paths));
  for (const auto& line : unknown) logger("agent")->warn("{}", line);

  dataplane::NetlinkLinkSource links;
  SystemClock clock;
  MetricsRegistry metrics;
  AgentServiceDeps deps = makeDeps(links, clock);
  deps.metrics = &metrics;
  AgentService service(std::move(*config), std::move(deps));
  service.start();
  if (once) return service.runOnce() ? 0 : 1;

  const int signalFd = signalfd(-1, &set, SFD_CLOEXEC);
  if (signalFd < 0) return fail(std::string("signalfd: ") + std::strerror(errno));

  EnforcementBoard board;
  publishPoints(service, board);
  const AgentConfig& running = service.config();
  BindingLoopOptions bindingOptions;
  bindingOptions.host = running.host;
  bindingOptions.resync = running.resyncInterval;
  // Its own connection: HttpRestTransport is not thread-safe, and a long-poll holds it.
  HttpRestTransport bindingServer(
      http::parseUrlList(running.serverEndpoint).value(), running.placementToken, "",
      bindingOptions.longPollWait + kServerTimeout, http::ClientTls{running.caFile});
  BindingLoop bindings(bindingOptions, bindingServer, board,
                       [ovsdb = running.ovsdbConnection](const EnforcementPoints& points) {
                         return makeBackends(points, ovsdb);
                       });
  bindings.setMetrics(&metrics);
  // The binding thread tells the report loop (this thread) through an eventfd.
  const int deletedFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (deletedFd < 0) return fail(std::string("eventfd: ") + std::strerror(errno));
  bindings.setProvidersDeletedCallback([deletedFd] {
    const uint64_t one = 1;
    (void)!write(deletedFd, &one, sizeof(one));
  });
  addBindingCollector(metrics, bindings);
  AgentHealth health(bindings);
  std::atomic<bool> stop{false};
  std::thread bindingThread([&] { bindings.run(stop); });
  // tc events: drift is repaired at once; without them, at the next full observe (resync).
  auto tcChanges = dataplane::NetlinkTcChangeSource::open();
  if (!tcChanges) {
    logger("agent")->warn("{}; a class or filter changed by hand is repaired at the next resync",
                          tcChanges.error().message());
  }
  DataplaneWatch watch(bindings, tcChanges ? tcChanges->get() : nullptr);
  std::thread watchThread([&] { watch.run(stop); });
  auto status = StatusSocket::open(running.statusSocket, [&bindings, &health] {
    auto doc = bindings.statusDocument();
    doc["health"] = health.toJson(AgentHealth::Clock::now());
    return doc.dump();
  });
  if (status) {
    logger("agent")->info("status socket {} (bwfloorctl queues)", running.statusSocket);
  } else {
    logger("agent")->error("no status socket, `bwfloorctl queues` will not work: {}",
                           status.error().message());
  }
  std::unique_ptr<http::HttpServer> metricsServer;
  if (running.metricsPort != 0) {
    http::ServerOptions options;
    options.host = running.metricsHost;
    options.port = running.metricsPort;
    options.threads = 1;
    metricsServer =
        std::make_unique<http::HttpServer>(options, [&metrics, &health](const http::Request& req) {
          return agentMetricsResponse(req, metrics, health);
        });
    if (auto st = metricsServer->start(); st) {
      logger("agent")->info("metrics on http://{}:{}/metrics and /healthcheck", running.metricsHost,
                            running.metricsPort);
    } else {
      logger("agent")->error("no metrics listener ([agent] metrics_listen): {}",
                             st.error().message());
      metricsServer.reset();
    }
  }

  const int rc = runLoop(paths, service, links, signalFd, deletedFd, board, health);
  stop = true;
  if (metricsServer) metricsServer->stop();
  watchThread.join();
  bindingThread.join();
  close(deletedFd);
  close(signalFd);
  return rc;
}

int agentMain(int argc, char** argv) {
  CLI::App app{"bwfloor-agent: reports this host's bandwidth to placement and enforces minimums",
               "bwfloor-agent"};
  app.set_version_flag("--version", std::string("bwfloor-agent ") + bwfloor::kVersion);
  ConfigFilesCli files;
  files.addTo(app, "/etc/bwfloor/agent.ini", " (e.g. neutron.conf, then openvswitch_agent.ini)");
  bool once = false;
  app.add_flag("--once", once,
               "Discover, sync placement and send one heartbeat, then exit (non-zero unless "
               "placement is in sync)");
  addBashCompletionFlag(app);
  CLI11_PARSE(app, argc, argv);

  if (!files.checkConfig.empty()) {
    std::vector<std::string> unknown;
    auto config = bwfloor::agent::loadAgentConfig(files.checkConfig, &unknown);
    if (!config) return fail(config.error().message());
    if (!files.reportUnknown(unknown)) return 1;
    std::cout << joinedPaths(files.checkConfig) << ": ok (host " << config->host << ")\n";
    return 0;
  }
  return runAgent(files.paths(), once);
}

}  // namespace

int main(int argc, char** argv) {
  // No exception is expected past the modules (STYLE.md §4); should a third-party one escape,
  // exit with its message rather than std::terminate.
  try {
    return agentMain(argc, argv);
  } catch (const std::exception& e) {
    return fail(std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return fail("unexpected exception");
  }
}
