#pragma once
// The Placement REST API over PlacementModel: version negotiation, auth (noauth2 / token),
// routing with Placement's 404/405 rules, and error formatting. Mounted under /placement and at
// the root (for the version document).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"
#include "placement/api/request_context.h"
#include "placement/model/placement_model.h"
#include "placement/policy/policy.h"
#include "placement/server_config.h"

namespace bwfloor::placement {

struct ApiOptions {
  AuthStrategy auth = AuthStrategy::kNoAuth2;
  std::vector<std::string> adminTokens;
  std::map<std::string, std::string> readerTokens;  // token -> the one project it reads
  std::map<std::string, std::string> agentTokens;   // token -> the one host it acts as
  bool randomizeCandidates = false;
  std::string prefix = "/placement";
  // Placement's policy ([oslo_policy]); null: Placement 8.0's defaults with 8.0's flags.
  std::shared_ptr<const policy::Enforcer> policy;
};

using RouteHandler = http::Response (*)(PlacementModel&, RequestContext&);

struct Route {
  std::string method;
  std::vector<std::string> segments;  // "{}" is a placeholder
  int minMinor = 0;
  int maxMinor = 99;
  RouteHandler handler;
  const char* rule = "";  // the Placement policy rule the handler enforces (context.can)
};

class PlacementApi {
 public:
  PlacementApi(PlacementModel& model, ApiOptions options);
  // Handles a request owns() accepted.
  http::Response handle(const http::Request& req);
  // "/", the prefix and what is under it, and Placement's collections at the root
  // ("/resource_providers/...": many deployments register Placement at the root of its port).
  bool owns(const std::string& path) const;

 private:
  bool underPrefix(const std::string& path) const;
  // Routes an authenticated request with a negotiated version.
  http::Response dispatch(const std::vector<std::string>& segs, RequestContext& ctx);

  PlacementModel& model_;
  ApiOptions options_;
  std::shared_ptr<const policy::Enforcer> policy_;
  std::vector<Route> routes_;
};

}  // namespace bwfloor::placement
