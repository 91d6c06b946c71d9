#pragma once
// bwfloor's /v1 API (networks, QoS policies, ports, servers, agents, host bindings): the edge
// where request bodies become domain.h's typed requests (a 400 naming the field otherwise),
// errors in Placement's JSON error format.

#include "http/server.h"
#include "placement/api/placement_api.h"
#include "placement/ports/ports_service.h"

namespace bwfloor::ports {

class V1Api {
 public:
  V1Api(PortsService& service, placement::ApiOptions auth);
  bool owns(const std::string& path) const { return path == "/v1" || path.rfind("/v1/", 0) == 0; }
  // Long-polls answer later, hence the responder.
  void handle(http::Request&& req, const http::Responder& respond);

 private:
  // `agentHost`: set when an agent's credential calls (it may act only as that host).
  http::Response route(const http::Request& req, const std::vector<std::string>& segs,
                       const nlohmann::json& body, const std::string& agentHost);
  http::Response create(Kind kind, const nlohmann::json& body, const std::string& agentHost);
  PortsService& service_;
  placement::ApiOptions auth_;
};

}  // namespace bwfloor::ports
