// bwfloor-server: the Placement API (and, later, bwfloor's /v1 API) on one HTTP port.

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "core/cli_completion.h"
#include "core/config_files_cli.h"
#include "core/logging.h"
#include "core/version.h"
#include "http/server.h"
#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"
#include "placement/ports/v1_api.h"
#include "placement/replica_follower.h"
#include "placement/server_config.h"
#include "placement/server_routes.h"
#include "placement/store/database_lock.h"
#include "placement/store/postgres_store.h"
#include "placement/store/sqlite_store.h"

namespace {

int fail(const std::string& why) {
  std::cerr << "bwfloor-server: " << why << "\n";
  return 1;
}

// Blocks until SIGINT or SIGTERM; they are blocked in every thread so only this one sees them.
int waitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

// What --check-config and start-up both refuse: the file itself, the log level, the database URL.
struct CheckedConfig {
  bwfloor::placement::ServerConfig config;
  bwfloor::LogOptions log;
  std::string dbPath;            // SQLite: the file (or ":memory:")
  std::string postgresConninfo;  // PostgreSQL: the URI for libpq
  std::string dbShown;           // for messages, the password masked
  // Placement's policy: the defaults, [oslo_policy] policy_file over them (refused if bad).
  std::shared_ptr<const bwfloor::placement::policy::Enforcer> policy;
};

bwfloor::Result<CheckedConfig> loadCheckedConfig(const std::vector<std::string>& paths,
                                                 std::vector<std::string>* unknown) {
  using bwfloor::ErrorCode;
  using bwfloor::makeError;
  CheckedConfig checked;
  const std::string path = bwfloor::joinedPaths(paths);
  ASSIGN_OR_RETURN(checked.config, bwfloor::placement::loadServerConfig(paths, unknown));
  auto log = bwfloor::logOptionsFromConfig(checked.config.logLevel, checked.config.debug,
                                           checked.config.useJson);
  if (!log) {
    return makeError(ErrorCode::kInvalidArgument,
                     path + ": [DEFAULT] log_level: " + log.error().message());
  }
  checked.log = *log;
  bwfloor::placement::policy::PolicyOptions policyOptions;
  policyOptions.enforceScope = checked.config.enforceScope;
  policyOptions.enforceNewDefaults = checked.config.enforceNewDefaults;
  ASSIGN_OR_RETURN(checked.policy, bwfloor::placement::policy::loadPlacementPolicy(
                                       policyOptions, checked.config.policyFile));
  const std::string& connection = checked.config.databaseConnection;
  const bool postgres = connection.rfind("postgres", 0) == 0;
  auto target = postgres ? bwfloor::placement::postgresConninfoFromConnection(connection)
                         : bwfloor::placement::sqlitePathFromConnection(connection);
  if (!target) {
    return makeError(ErrorCode::kInvalidArgument,
                     path + ": [placement_database] connection: " + target.error().message());
  }
  (postgres ? checked.postgresConninfo : checked.dbPath) = *target;
  checked.dbShown = postgres ? bwfloor::placement::maskConnectionPassword(connection) : *target;
  if (!checked.config.tlsCertFile.empty()) {
    const bwfloor::http::TlsFiles files{checked.config.tlsCertFile, checked.config.tlsKeyFile};
    if (auto st = bwfloor::http::checkTlsFiles(files); !st) {
      return makeError(ErrorCode::kInvalidArgument, path + ": [ssl] " + st.error().message());
    }
  }
  return checked;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bwfloor-server: OpenStack-compatible Placement API (/placement) for bwfloor",
               "bwfloor-server"};
  app.set_version_flag("--version", std::string("bwfloor-server ") + bwfloor::kVersion);
  bwfloor::ConfigFilesCli files;
  files.addTo(app, "/etc/bwfloor/server.ini", "");
  bwfloor::addBashCompletionFlag(app);
  CLI11_PARSE(app, argc, argv);

  using namespace bwfloor;  // NOLINT(google-build-using-namespace)
  std::vector<std::string> unknown;
  if (!files.checkConfig.empty()) {
    auto checked = loadCheckedConfig(files.checkConfig, &unknown);
    if (!checked) return fail(checked.error().message());
    if (!files.reportUnknown(unknown)) return 1;
    std::cout << joinedPaths(files.checkConfig) << ": ok (bind " << checked->config.bindHost << ":"
              << checked->config.bindPort << ", db " << checked->dbShown << ")\n";
    return 0;
  }
  auto checked = loadCheckedConfig(files.paths(), &unknown);
  if (!checked) return fail(checked.error().message());
  initLogging(checked->log);
  auto log = logger("server");
  for (const auto& line : unknown) log->warn("{}", line);
  const placement::ServerConfig& config = checked->config;
  const std::string& dbPath = checked->dbPath;
  const std::string& dbShown = checked->dbShown;
  const bool postgres = !checked->postgresConninfo.empty();

  // SQLite: before anything reads the file, as a second server on it would diverge from the
  // first. PostgreSQL: replicas follow each other (ReplicaFollower).
  std::optional<placement::DatabaseLock> databaseLock;  // none for an in-memory database
  if (!postgres && dbPath != ":memory:") {
    auto lock = placement::DatabaseLock::acquire(dbPath);
    if (!lock) return fail(lock.error().message());
    databaseLock.emplace(std::move(*lock));
  }
  std::shared_ptr<placement::Store> store;
  if (postgres) {
    auto opened = placement::PostgresStore::open(checked->postgresConninfo);
    if (!opened) return fail(opened.error().toString());
    store = std::move(*opened);
  } else {
    placement::SqliteOptions sqliteOptions;
    sqliteOptions.synchronousNormal = config.sqliteSynchronousNormal;
    auto opened = placement::SqliteStore::open(dbPath, sqliteOptions);
    if (!opened) return fail(opened.error().toString());
    store = std::move(*opened);
  }
  placement::PlacementModel model(store);
  if (auto st = model.load(); !st) return fail("loading " + dbShown + ": " + st.error().toString());

  placement::ApiOptions apiOptions;
  apiOptions.auth = config.authStrategy;
  apiOptions.adminTokens = config.adminTokens;
  apiOptions.readerTokens = config.readerTokens;
  apiOptions.agentTokens = config.agentTokens;
  apiOptions.randomizeCandidates = config.randomizeCandidates;
  apiOptions.policy = checked->policy;
  placement::PlacementApi api(model, apiOptions);

  auto docs = postgres ? ports::openPostgresJsonStore(checked->postgresConninfo)
                       : ports::openSqliteJsonStore(dbPath);
  if (!docs) return fail(docs.error().toString());
  ports::PortsOptions portsOptions;
  portsOptions.agentDownTime = config.agentDownTime;
  portsOptions.bindingTimeout = config.bindingTimeout;
  ports::PortsService portsService(model, std::shared_ptr<ports::JsonStore>(std::move(*docs)),
                                   portsOptions);
  if (auto st = portsService.load(); !st)
    return fail("loading /v1 objects: " + st.error().toString());
  ports::V1Api v1(portsService, apiOptions);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  http::ServerOptions httpOptions;
  httpOptions.host = config.bindHost;
  httpOptions.port = static_cast<uint16_t>(config.bindPort);
  httpOptions.threads = config.threads;
  if (!config.tlsCertFile.empty()) {
    httpOptions.tls = http::TlsFiles{config.tlsCertFile, config.tlsKeyFile};
  }
  // The metrics observe the store's commits: made before the follower (which writes) starts,
  // destroyed after it stops. Requests ask the follower through a pointer set before serving.
  placement::ReplicaFollower* followerForRequests = nullptr;
  placement::ServerRoutes::Staleness staleness;
  if (postgres) {
    staleness = [&followerForRequests] { return followerForRequests->staleness(); };
  }
  placement::ServerMetrics metrics(model, portsService, staleness);
  std::optional<placement::ReplicaFollower> follower;
  if (postgres) {
    placement::FollowerOptions followerOptions;
    followerOptions.maxLag = config.maxReplicaLag;
    followerOptions.pollInterval = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(1000), followerOptions.maxLag / 4);
    follower.emplace(checked->postgresConninfo, model, portsService, followerOptions);
    followerForRequests = &*follower;
  }
  placement::ServerRoutes routes(api, v1, staleness, &metrics, config.cors);
  http::HttpServer server(httpOptions, [&routes](http::Request&& req, http::Responder respond) {
    routes.handle(std::move(req), respond);
  });
  if (auto st = server.start(); !st) return fail(st.error().message());
  log->info("bwfloor-server {} serving {}://{}:{}/placement db={} auth={}", kVersion,
            httpOptions.tls ? "https" : "http", config.bindHost, server.port(), dbShown,
            config.authStrategy == placement::AuthStrategy::kNoAuth2 ? "noauth2" : "token");
  log->info("policy file={} enforce_scope={} enforce_new_defaults={} cors_origins={}",
            config.policyFile.empty() ? "(defaults)" : config.policyFile, config.enforceScope,
            config.enforceNewDefaults, config.cors.allowedOrigins.size());
  // Long-polls that reach their deadline are answered by this ticker.
  std::atomic<bool> stopping{false};
  std::thread ticker([&] {
    while (!stopping) {
      portsService.expireWaiters();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  int sig = waitForStopSignal();
  stopping = true;
  ticker.join();
  log->info("signal {} received, stopping", sig);
  server.stop();
  return 0;
}
