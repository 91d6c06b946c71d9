#include "placement/server_routes.h"

#include "core/uuid.h"
#include "placement/api/request_context.h"

namespace bwfloor::placement {

void ServerRoutes::handle(http::Request&& req, const http::Responder& respond) {
  // A replica behind the database serves no reads (writes catch up under the write lock first).
  if (staleness_ && (req.method == "GET" || req.method == "HEAD")) {
    if (auto why = staleness_()) {
      RequestContext ctx{req};
      ctx.requestId = "req-" + uuid4().toString();
      return respond(unversionedErrorResponse(ctx, unavailable(*why)));
    }
  }
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
