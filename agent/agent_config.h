#pragma once
// bwfloor-agent's configuration: Neutron's agent option names so operators can reuse their files.
// (The full Neutron grammar of bridge_mappings / resource_provider_bandwidths arrives with the
// agent issue; this reads the options every agent needs.)

#include <chrono>
#include <string>

#include "core/result.h"

namespace bwfloor::agent {

struct AgentConfig {
  std::string host;  // [agent] host; default: the machine's hostname
  std::string placementEndpoint = "http://127.0.0.1:8778/placement";  // [placement] endpoint
  std::string placementToken = "admin";                               // [placement] token
  std::string ovsdbConnection = "unix:/var/run/openvswitch/db.sock";  // [ovs] ovsdb_connection
  std::chrono::seconds reportInterval{30};                            // [agent] report_interval
  std::string logLevel = "info";                                      // [DEFAULT] log_level
};

// Reads and validates FILE; errors name file:line, section, key and why.
Result<AgentConfig> loadAgentConfig(const std::string& path);

}  // namespace bwfloor::agent
