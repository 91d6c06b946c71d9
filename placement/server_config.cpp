#include "placement/server_config.h"

#include <charconv>
#include <filesystem>

#include "core/ini.h"

namespace bwfloor::placement {
namespace {

Status parseBind(const IniFile& ini, ServerConfig& config) {
  auto entry = ini.get("api", "bind");
  if (!entry) return Status::ok();
  const std::string& text = entry->value;
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return ini.errorAt("api", "bind", "'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:8778)");
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  std::string_view portText(text.data() + colon + 1, text.size() - colon - 1);
  auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || ptr != portText.data() + portText.size() || port < 0 || port > 65535) {
    return ini.errorAt("api", "bind", "port '" + std::string(portText) + "' is not 0..65535");
  }
  config.bindHost = host;
  config.bindPort = port;
  return Status::ok();
}

// "OWNER:TOKEN, ..." -> token -> owner. A token bound to nothing would be a credential that can
// claim to be anyone, which is what these options exist to prevent.
Result<std::map<std::string, std::string>> boundTokens(const IniFile& ini, const char* key,
                                                       const char* owner) {
  std::map<std::string, std::string> out;
  for (const auto& entry : ini.getList("auth", key)) {
    const size_t colon = entry.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == entry.size()) {
      return ini.errorAt("auth", key,
                         "entries are " + std::string(owner) + ":TOKEN (a token bound to its " +
                             "owner), got an entry without both parts");
    }
    if (!out.emplace(entry.substr(colon + 1), entry.substr(0, colon)).second) {
      return ini.errorAt("auth", key, "a token is listed twice");
    }
  }
  return out;
}

// [oslo_policy]: the file's path (not read here: the server loads it at start-up) and the flags.
Status parsePolicy(const IniFile& ini, const std::vector<std::string>& paths,
                   ServerConfig& config) {
  namespace fs = std::filesystem;
  ASSIGN_OR_RETURN(config.enforceScope, ini.getBool("oslo_policy", "enforce_scope", false));
  ASSIGN_OR_RETURN(config.enforceNewDefaults,
                   ini.getBool("oslo_policy", "enforce_new_defaults", false));
  if (auto entry = ini.get("oslo_policy", "policy_file")) {
    if (entry->value.empty()) return ini.errorAt("oslo_policy", "policy_file", "is empty");
    fs::path file(entry->value);
    if (file.is_relative()) {
      const std::string& from = entry->file.empty() ? ini.fileName() : entry->file;
      file = fs::path(from).parent_path() / file;
    }
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      return ini.errorAt("oslo_policy", "policy_file", "'" + file.string() + "' is not a file");
    }
    config.policyFile = file.string();
  } else if (!paths.empty()) {
    const fs::path file = fs::path(paths.front()).parent_path() / "policy.yaml";
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) config.policyFile = file.string();
  }
  return Status::ok();
}

// [cors]: oslo.middleware's CORS_OPTS with their defaults.
Status parseCors(const IniFile& ini, http::CorsOptions& cors) {
  cors.allowedOrigins = ini.getList("cors", "allowed_origin");
  ASSIGN_OR_RETURN(cors.allowCredentials, ini.getBool("cors", "allow_credentials", true));
  cors.exposeHeaders = ini.getList("cors", "expose_headers");
  ASSIGN_OR_RETURN(int64_t maxAge, ini.getInt("cors", "max_age", 3600, 0, 1 << 30));
  cors.maxAgeSeconds = static_cast<int>(maxAge);
  if (ini.has("cors", "allow_methods")) cors.allowMethods = ini.getList("cors", "allow_methods");
  cors.allowHeaders = ini.getList("cors", "allow_headers");
  return Status::ok();
}

bool isLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Result<ServerConfig> loadServerConfig(const std::string& path) {
  return loadServerConfig(std::vector<std::string>{path}, nullptr);
}

Result<ServerConfig> loadServerConfig(const std::vector<std::string>& paths,
                                      std::vector<std::string>* unknown) {
  ASSIGN_OR_RETURN(IniFile ini, loadIniFiles(paths));
  ServerConfig config;
  RETURN_IF_ERROR(parseBind(ini, config));
  std::string auth = ini.getString("api", "auth_strategy", "noauth2");
  if (auth == "noauth2") {
    config.authStrategy = AuthStrategy::kNoAuth2;
  } else if (auth == "token") {
    config.authStrategy = AuthStrategy::kToken;
  } else {
    return ini.errorAt("api", "auth_strategy", "'" + auth + "' is not one of noauth2, token");
  }
  ASSIGN_OR_RETURN(int64_t threads, ini.getInt("api", "threads", 4, 1, 64));
  ASSIGN_OR_RETURN(config.agentDownTime,
                   ini.getSeconds("DEFAULT", "agent_down_time", config.agentDownTime));
  ASSIGN_OR_RETURN(config.bindingTimeout,
                   ini.getSeconds("api", "binding_timeout", config.bindingTimeout));
  ASSIGN_OR_RETURN(config.maxReplicaLag,
                   ini.getSeconds("placement_database", "max_replica_lag", config.maxReplicaLag));
  config.threads = static_cast<int>(threads);
  config.adminTokens = ini.getList("auth", "admin_tokens");
  ASSIGN_OR_RETURN(config.readerTokens, boundTokens(ini, "reader_tokens", "PROJECT"));
  ASSIGN_OR_RETURN(config.agentTokens, boundTokens(ini, "agent_tokens", "HOST"));
  if (config.authStrategy == AuthStrategy::kToken && config.adminTokens.empty()) {
    return ini.errorAt("auth", "admin_tokens", "auth_strategy = token needs at least one token");
  }
  config.databaseConnection =
      ini.getString("placement_database", "connection", config.databaseConnection);
  std::string sync = ini.getString("placement_database", "sqlite_synchronous", "full");
  if (sync != "full" && sync != "normal") {
    return ini.errorAt("placement_database", "sqlite_synchronous",
                       "'" + sync + "' is not one of full, normal");
  }
  config.sqliteSynchronousNormal = sync == "normal";
  config.logLevel = ini.getString("DEFAULT", "log_level", config.logLevel);
  ASSIGN_OR_RETURN(config.debug, ini.getBool("DEFAULT", "debug", false));
  ASSIGN_OR_RETURN(config.useJson, ini.getBool("DEFAULT", "use_json", false));
  ASSIGN_OR_RETURN(config.randomizeCandidates,
                   ini.getBool("placement", "randomize_allocation_candidates", false));
  config.tlsCertFile = ini.getString("ssl", "cert_file", "");
  config.tlsKeyFile = ini.getString("ssl", "key_file", "");
  if (config.tlsCertFile.empty() != config.tlsKeyFile.empty()) {
    const char* missing = config.tlsCertFile.empty() ? "cert_file" : "key_file";
    return ini.errorAt(
        "ssl", config.tlsCertFile.empty() ? "key_file" : "cert_file",
        std::string("HTTPS needs both cert_file and key_file; ") + missing + " is not set");
  }
  RETURN_IF_ERROR(parsePolicy(ini, paths, config));
  RETURN_IF_ERROR(parseCors(ini, config.cors));
  RETURN_IF_ERROR(validateServerConfig(config));
  if (unknown) {
    for (const auto& key : ini.unknownKeys()) {
      unknown->push_back(describeUnknownKey(key, "bwfloor-server"));
    }
  }
  return config;
}

Status validateServerConfig(const ServerConfig& config) {
  if (config.authStrategy == AuthStrategy::kNoAuth2 && !isLoopback(config.bindHost)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "[api] bind = " + config.bindHost +
                         ": auth_strategy = noauth2 trusts any caller, so it only listens on "
                         "loopback; set auth_strategy = token to listen on " +
                         config.bindHost);
  }
  return Status::ok();
}

}  // namespace bwfloor::placement
