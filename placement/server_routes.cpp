#include "placement/server_routes.h"

namespace bwfloor::placement {

void ServerRoutes::handle(http::Request&& req, const http::Responder& respond) {
  if (v1_.owns(req.path)) return v1_.handle(std::move(req), respond);
  if (placement_.owns(req.path)) return respond(placement_.handle(req));
  http::Response resp;
  resp.status = 404;
  resp.headers.set("content-type", "application/json");
  resp.body =
      R"({"error": "no such URL; the Placement API is under /placement, bwfloor's under /v1"})";
  respond(std::move(resp));
}

}  // namespace bwfloor::placement
