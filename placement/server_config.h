#pragma once
// bwfloor-server's configuration. Option names follow OpenStack Placement's where one exists.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/cors.h"

namespace bwfloor::placement {

enum class AuthStrategy { kNoAuth2, kToken };

struct ServerConfig {
  std::string bindHost = "127.0.0.1";  // [api] bind = HOST:PORT
  int bindPort = 8778;
  AuthStrategy authStrategy = AuthStrategy::kNoAuth2;  // [api] auth_strategy
  std::string databaseConnection =
      "sqlite:////var/lib/bwfloor/placement.db";  // [placement_database]
  bool sqliteSynchronousNormal = false;  // [placement_database] sqlite_synchronous = full|normal
  std::string logLevel = "info";         // [DEFAULT] log_level (debug, info, warning, error)
  bool debug = false;                    // [DEFAULT] debug (oslo.log: DEBUG whatever log_level)
  bool useJson = false;                  // [DEFAULT] use_json: one JSON object per line
  int threads = 4;                       // [api] threads
  std::vector<std::string> adminTokens;  // [auth] admin_tokens (token mode)
  // [auth] reader_tokens = PROJECT:TOKEN, ...: a reader sees only its project (token mode).
  std::map<std::string, std::string> readerTokens;  // token -> project
  // [auth] agent_tokens = HOST:TOKEN, ...: an agent acts only as its host (token mode).
  std::map<std::string, std::string> agentTokens;  // token -> host
  bool randomizeCandidates = false;
  // [ssl] cert_file, key_file (oslo.service's names): serve HTTPS only. Both or neither.
  std::string tlsCertFile;
  std::string tlsKeyFile;
  // [placement_database] max_replica_lag: a replica on PostgreSQL that cannot show it is this
  // close to the database answers no reads (503) until it can.
  std::chrono::seconds maxReplicaLag{5};
  std::chrono::seconds agentDownTime{75};   // [DEFAULT] agent_down_time (Neutron's name)
  std::chrono::seconds bindingTimeout{30};  // [api] binding_timeout: wait for the agent       //
                                            // [placement] randomize_allocation_candidates
  // [oslo_policy] policy_file, as a path (relative ones resolved against the directory of the
  // config file that names it, as oslo.config's find_file does). Unset: policy.yaml next to the
  // first config file when there is one (oslo's default name), else Placement's defaults only.
  std::string policyFile;
  bool enforceScope = false;        // [oslo_policy] enforce_scope (False in Placement 8.0)
  bool enforceNewDefaults = false;  // [oslo_policy] enforce_new_defaults (False in 8.0)
  http::CorsOptions cors;           // [cors] (oslo.middleware's options and defaults)
};

// Reads and validates FILE; an error names file:line, section, key and why.
Result<ServerConfig> loadServerConfig(const std::string& path);
// Several files merged in order (a later key wins, as oslo.config merges --config-file);
// `unknown` gets one line per key no option reads, naming file:line and the closest option.
Result<ServerConfig> loadServerConfig(const std::vector<std::string>& paths,
                                      std::vector<std::string>* unknown);
// Checks cross-option rules (noauth2 only on loopback); error text says how to fix it.
Status validateServerConfig(const ServerConfig& config);

}  // namespace bwfloor::placement
