#include "placement/ports/v1_api.h"

#include <algorithm>
#include <optional>

#include "placement/api/error_status.h"
#include "placement/api/json_checks.h"

namespace bwfloor::ports {
namespace {

http::Response jsonReply(int status, const json& body) {
  http::Response r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  // Text from the request (a path with %ff, a name) may not be UTF-8: replaced, never a throw.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http::Response errorReply(const ApiError& e) {
  return http::errorResponse(placement::httpStatus(e.errc), e.detail, "", e.code);
}

http::Response reply(const ApiResult<json>& r, int okStatus = 200) {
  return r ? jsonReply(okStatus, *r) : errorReply(r.error());
}

// A typed answer in its JSON shape (domain.h's toJson).
template <typename T>
http::Response typedReply(const ApiResult<T>& r, int okStatus = 200) {
  return r ? jsonReply(okStatus, toJson(*r)) : errorReply(r.error());
}

// What an agent's credential may do on /v1, as its own host only. The host of its heartbeat is
// checked once the body is parsed (route()), its ports' status reports against the port's
// binding host by PortsService.
bool agentMayCall(const std::string& method, const std::vector<std::string>& segs,
                  const std::string& host) {
  if (segs.size() == 2 && segs[1] == "agents" && method == "POST") return true;
  if (segs.size() == 4 && segs[1] == "hosts" && segs[3] == "bindings" && method == "GET") {
    return segs[2] == host;
  }
  return segs.size() == 4 && segs[1] == "ports" && segs[3] == "binding_status" && method == "PUT";
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace

V1Api::V1Api(PortsService& service, placement::ApiOptions auth)
    : service_(service), auth_(std::move(auth)) {}

void V1Api::handle(http::Request&& req, const http::Responder& respond) {
  const std::string* token = req.headers.find("x-auth-token");
  bool authorised = token && !token->empty();
  std::string agentHost;  // an agent's credential: the one host it may act as
  if (authorised && auth_.auth == placement::AuthStrategy::kToken) {
    authorised = std::find(auth_.adminTokens.begin(), auth_.adminTokens.end(), *token) !=
                 auth_.adminTokens.end();
    if (auto agent = auth_.agentTokens.find(*token);
        !authorised && agent != auth_.agentTokens.end()) {
      authorised = true;
      agentHost = agent->second;
    }
  }
  if (!authorised) {
    respond(errorReply(
        {placement::Errc::kUnauthenticated, "The request you have made requires authentication."}));
    return;
  }
  auto segs = split(req.path);
  json body;
  if (!req.body.empty()) {
    auto parsed = placement::json_checks::parseJsonText(req.body);
    if (!parsed) return respond(errorReply(parsed.error()));
    body = std::move(*parsed);
  }
  if (!agentHost.empty() && !agentMayCall(req.method, segs, agentHost)) {
    respond(errorReply({placement::Errc::kForbidden,
                        "an agent's credential acts only as its host (" + agentHost +
                            "): it may heartbeat, read that host's bindings and report its "
                            "ports' status"}));
    return;
  }
  // GET /v1/hosts/{host}/bindings?revision=N&wait=S[&providers_deleted=D]: answer at once if
  // the revision (or the count of the host's providers deleted in placement) moved, else when
  // one moves or after S seconds.
  if (req.method == "GET" && segs.size() == 4 && segs[1] == "hosts" && segs[3] == "bindings") {
    std::vector<std::pair<std::string, std::string>> query;
    http::parseQuery(req.query, query);
    std::optional<uint64_t> revision;
    std::optional<uint64_t> providersDeleted;
    int waitSeconds = 0;
    for (const auto& [k, v] : query) {
      try {
        if (k == "revision") revision = std::stoull(v);
        if (k == "providers_deleted") providersDeleted = std::stoull(v);
        if (k == "wait") waitSeconds = std::clamp(std::stoi(v), 0, 120);
      } catch (const std::exception&) {
        respond(errorReply(placement::badRequest("bindings: '" + k + "' must be a number")));
        return;
      }
    }
    std::string host = segs[2];
    auto answer = [this, host, respond] {
      respond(jsonReply(200, bindings::toJson(service_.hostBindings(host))));
    };
    if (!revision || waitSeconds == 0) {
      answer();
      return;
    }
    service_.waitForBindings(host, *revision, providersDeleted,
                             std::chrono::steady_clock::now() + std::chrono::seconds(waitSeconds),
                             answer);
    return;
  }
  // POST /v1/servers answers when the host's agent has reported (or at the binding timeout);
  // no thread waits for it. Any exception is the HTTP layer's: a 500 naming the request id.
  if (req.method == "POST" && segs.size() == 2 && segs[1] == "servers") {
    auto request = parseServerRequest(body);
    if (!request) return respond(errorReply(request.error()));
    service_.createServer(*request, [respond](ApiResult<Server> r) {
      respond(r ? jsonReply(201, toJson(*r)) : errorReply(r.error()));
    });
    return;
  }
  respond(route(req, segs, body, agentHost));
}

http::Response V1Api::route(const http::Request& req, const std::vector<std::string>& segs,
                            const json& body, const std::string& agentHost) {
  const std::string& m = req.method;
  if (segs.size() < 2) return jsonReply(200, {{"version", "v1"}});
  auto kind = kindOfCollection(segs[1]);
  if (!kind) return errorReply(placement::notFound("no such collection /v1/" + segs[1]));
  if (segs.size() == 2) {
    if (m == "GET") return jsonReply(200, {{segs[1], service_.list(*kind)}});
    if (m != "POST") {
      return errorReply({placement::Errc::kMethodNotAllowed, "use GET or POST on /v1/" + segs[1]});
    }
    return create(*kind, body, agentHost);
  }
  const std::string& ref = segs[2];
  if (segs.size() == 3) {
    if (m == "GET") return reply(service_.show(*kind, ref));
    if (m == "DELETE") {
      auto st = service_.deleteObject(*kind, ref);
      if (!st) return errorReply(st.error());
      http::Response r;
      r.status = 204;
      return r;
    }
    return errorReply(
        {placement::Errc::kMethodNotAllowed, "use GET or DELETE on /v1/" + segs[1] + "/" + ref});
  }
  if (*kind == Kind::kPolicy && segs[3] == "rules") {
    if (segs.size() == 4 && m == "POST") {
      auto request = parseRuleRequest(body);
      if (!request) return errorReply(request.error());
      return typedReply(service_.createRule(ref, *request), 201);
    }
    if (segs.size() == 5 && m == "PUT") {
      auto change = parseRateChange(body);
      if (!change) return errorReply(change.error());
      return typedReply(service_.updateRule(ref, segs[4], *change));
    }
  }
  if (*kind == Kind::kPort && segs.size() == 4 && segs[3] == "binding_status" && m == "PUT") {
    auto report = bindings::parseStatusReport(body);
    if (!report) return errorReply(placement::badRequest(report.error().message()));
    return typedReply(service_.reportBindingStatus(ref, *report, agentHost));
  }
  return errorReply(placement::notFound("no such URL " + req.path));
}

// POST /v1/{collection}; servers are created in handle().
http::Response V1Api::create(Kind kind, const json& body, const std::string& agentHost) {
  switch (kind) {
    case Kind::kNetwork: {
      auto request = parseNetworkRequest(body);
      if (!request) return errorReply(request.error());
      return typedReply(service_.createNetwork(*request), 201);
    }
    case Kind::kPolicy: {
      auto request = parsePolicyRequest(body);
      if (!request) return errorReply(request.error());
      return typedReply(service_.createPolicy(*request), 201);
    }
    case Kind::kPort: {
      auto request = parsePortRequest(body);
      if (!request) return errorReply(request.error());
      auto port = service_.createPort(*request);
      if (!port) return errorReply(port.error());
      return jsonReply(201, service_.describe(*port));
    }
    case Kind::kAgent: {
      auto request = parseHeartbeatRequest(body);
      if (!request) return errorReply(request.error());
      if (!agentHost.empty() && request->host != agentHost) {
        return errorReply(placement::forbidden("an agent's credential acts only as its host (" +
                                               agentHost + "): it may not heartbeat as " +
                                               request->host));
      }
      auto agent = service_.heartbeat(*request);
      if (!agent) return errorReply(agent.error());
      json out = toJson(*agent);
      out["alive"] = true;
      return jsonReply(200, out);
    }
    case Kind::kServer:
      break;
  }
  return errorReply(placement::notFound("no such URL"));
}

}  // namespace bwfloor::ports
