#include "placement/server_routes.h"

#include <chrono>

#include "core/uuid.h"
#include "placement/api/request_context.h"

namespace bwfloor::placement {

void ServerRoutes::handle(http::Request&& req, const http::Responder& respond) {
  const std::string path = req.path.substr(0, req.path.find('?'));
  if (metrics_ && path == "/metrics" && req.method == "GET") return respond(metrics_->metrics());
  if (metrics_ && path == "/healthcheck" && (req.method == "GET" || req.method == "HEAD")) {
    return respond(metrics_->healthcheck(req));
  }
  if (!metrics_) return route(std::move(req), respond);
  // Every other answer is counted when it is sent (a long-poll's later).
  http::Responder timed = [metrics = metrics_, method = req.method, path = req.path,
                           start = std::chrono::steady_clock::now(), respond](http::Response resp) {
    metrics->observeRequest(
        method, path, resp.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    respond(std::move(resp));
  };
  route(std::move(req), timed);
}

void ServerRoutes::route(http::Request&& req, const http::Responder& respond) {
  // A replica behind the database serves no reads (writes catch up under the write lock first).
  if (staleness_ && (req.method == "GET" || req.method == "HEAD")) {
    if (auto why = staleness_()) {
      RequestContext ctx{req};
      ctx.requestId = req.requestId.empty() ? "req-" + uuid4().toString() : req.requestId;
      return respond(unversionedErrorResponse(ctx, unavailable(*why)));
    }
  }
  if (v1_.owns(req.path)) return v1_.handle(std::move(req), respond);
  if (placement_.owns(req.path)) return respond(placement_.handle(req));
  http::Response resp;
  resp.status = 404;
  resp.headers.set("content-type", "application/json");
  resp.body =
      R"({"error": "no such URL; the Placement API is under /placement and at the root, bwfloor's under /v1"})";
  respond(std::move(resp));
}

}  // namespace bwfloor::placement
