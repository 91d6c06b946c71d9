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
  // CORS covers Placement's answers (oslo.middleware's filter in Placement's pipeline: outside
  // auth, so a preflight needs no token). /v1 is bwfloor's own API for bwfloorctl and the
  // agents, not for browsers: no CORS there.
  const bool placement = !v1_.owns(req.path) && placement_.owns(req.path);
  if (placement && cors_.enabled() && req.method == "OPTIONS") return respond(cors_.preflight(req));
  auto answer = [&](http::Response resp) {
    if (placement && cors_.enabled()) cors_.decorate(req, resp);
    respond(std::move(resp));
  };
  // A replica behind the database serves no reads (writes catch up under the write lock first).
  if (staleness_ && (req.method == "GET" || req.method == "HEAD")) {
    if (auto why = staleness_()) {
      RequestContext ctx{req};
      ctx.requestId = req.requestId.empty() ? "req-" + uuid4().toString() : req.requestId;
      return answer(unversionedErrorResponse(ctx, unavailable(*why)));
    }
  }
  if (v1_.owns(req.path)) return v1_.handle(std::move(req), respond);
  if (placement) return answer(placement_.handle(req));
  http::Response resp;
  resp.status = 404;
  resp.headers.set("content-type", "application/json");
  resp.body =
      R"({"error": "no such URL; the Placement API is under /placement and at the root, bwfloor's under /v1"})";
  respond(std::move(resp));
}

}  // namespace bwfloor::placement
