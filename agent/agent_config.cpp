#include "agent/agent_config.h"

#include <unistd.h>

#include <array>

#include "core/ini.h"
#include "http/client.h"

namespace bwfloor::agent {

Result<AgentConfig> loadAgentConfig(const std::string& path) {
  ASSIGN_OR_RETURN(IniFile ini, loadIni(path));
  AgentConfig config;
  config.host = ini.getString("agent", "host");
  if (config.host.empty()) {
    std::array<char, 256> name{};
    if (gethostname(name.data(), name.size() - 1) != 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       path + ": [agent] host is not set and gethostname() failed", errno);
    }
    config.host = name.data();
  }
  config.placementEndpoint = ini.getString("placement", "endpoint", config.placementEndpoint);
  if (auto url = http::parseUrl(config.placementEndpoint); !url) {
    return ini.errorAt("placement", "endpoint", url.error().message());
  }
  config.placementToken = ini.getString("placement", "token", config.placementToken);
  config.ovsdbConnection = ini.getString("ovs", "ovsdb_connection", config.ovsdbConnection);
  ASSIGN_OR_RETURN(config.reportInterval,
                   ini.getSeconds("agent", "report_interval", config.reportInterval));
  config.logLevel = ini.getString("DEFAULT", "log_level", config.logLevel);
  return config;
}

}  // namespace bwfloor::agent
