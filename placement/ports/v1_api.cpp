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

template <typename T>
http::Response reply(const ApiResult<T>& r, int okStatus = 200) {
  return r ? jsonReply(okStatus, *r) : errorReply(r.error());
}

// The services read fields with nlohmann's typed accessors, which throw on a wrong JSON type
// ({"host": 5}). Until every field is parsed into a typed value first (issue 15), that is a 400
// naming the mismatch, never an exception that takes the server down.
http::Response wrongTypeReply(const json::exception& e) {
  const std::string what = e.what();
  const size_t text = what.find("] ");
  return errorReply(
      placement::badRequest("Malformed request body: a field has the wrong JSON type (" +
                            (text == std::string::npos ? what : what.substr(text + 2)) + ")"));
}

// The JSON type each field of a /v1 request body must have, checked at the edge so that a wrong
// type is a 400 naming the field, the expected type and the value (the services then read the
// fields with typed accessors that cannot throw). Unknown fields are the services' business.
enum class FieldType { kString, kInteger, kBoolean, kObject, kStringList, kStringOrNull };

struct FieldRule {
  const char* name;
  FieldType type;
};

const char* describe(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "a string";
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kBoolean:
      return "true or false";
    case FieldType::kObject:
      return "an object";
    case FieldType::kStringList:
      return "a list of strings";
    case FieldType::kStringOrNull:
      return "a string or null";
  }
  return "?";
}

bool hasType(const json& v, FieldType type) {
  switch (type) {
    case FieldType::kString:
      return v.is_string();
    case FieldType::kInteger:
      return v.is_number_integer();
    case FieldType::kBoolean:
      return v.is_boolean();
    case FieldType::kObject:
      return v.is_object();
    case FieldType::kStringList:
      return v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
    case FieldType::kStringOrNull:
      return v.is_string() || v.is_null();
  }
  return false;
}

// The rules of a request, by method and collection (segs[1]); nullptr when it takes no body.
const std::vector<FieldRule>* bodyRules(const std::string& method,
                                        const std::vector<std::string>& segs) {
  using T = FieldType;
  static const std::vector<FieldRule> kNetwork = {{"name", T::kString},
                                                  {"physnet", T::kString},
                                                  {"segmentation_id", T::kInteger},
                                                  {"network_type", T::kString}};
  static const std::vector<FieldRule> kPolicy = {{"name", T::kString}};
  static const std::vector<FieldRule> kRule = {{"type", T::kString},
                                               {"direction", T::kString},
                                               {"min_kbps", T::kInteger},
                                               {"max_kbps", T::kInteger}};
  static const std::vector<FieldRule> kPort = {{"name", T::kString},
                                               {"network", T::kString},
                                               {"vnic_type", T::kString},
                                               {"mac_address", T::kString},
                                               {"qos_policy", T::kStringOrNull}};
  static const std::vector<FieldRule> kServer = {{"name", T::kString},
                                                 {"host", T::kString},
                                                 {"strategy", T::kString},
                                                 {"ports", T::kStringList}};
  static const std::vector<FieldRule> kAgent = {{"host", T::kString},
                                                {"agent_type", T::kString},
                                                {"binary", T::kString},
                                                {"configurations", T::kObject},
                                                {"resources_synced", T::kBoolean}};
  if (segs.size() < 2) return nullptr;
  const std::string& c = segs[1];
  if (method == "POST" && segs.size() == 2) {
    if (c == "networks") return &kNetwork;
    if (c == "qos_policies") return &kPolicy;
    if (c == "ports") return &kPort;
    if (c == "servers") return &kServer;
    if (c == "agents") return &kAgent;
  }
  if (c == "qos_policies" && segs.size() >= 4 && segs[3] == "rules" &&
      (method == "POST" || method == "PUT")) {
    return &kRule;
  }
  return nullptr;
}

// A 400 naming the first field whose JSON type is wrong, or nullopt.
std::optional<ApiError> wrongFieldType(const json& body, const std::vector<FieldRule>& rules) {
  if (!body.is_object()) {
    return placement::badRequest("the request body must be a JSON object, got " +
                                 body.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  for (const auto& rule : rules) {
    auto it = body.find(rule.name);
    if (it == body.end() || hasType(*it, rule.type)) continue;
    std::string value = it->dump(-1, ' ', false, json::error_handler_t::replace);
    if (value.size() > 100) value = value.substr(0, 100) + "...";
    return placement::badRequest("'" + std::string(rule.name) + "' must be " + describe(rule.type) +
                                 ", got " + value);
  }
  return std::nullopt;
}

// What an agent's credential may do on /v1, as its own host only. Its ports' status reports are
// checked against the port's binding host by PortsService.
bool agentMayCall(const std::string& method, const std::vector<std::string>& segs, const json& body,
                  const std::string& host) {
  if (segs.size() == 2 && segs[1] == "agents" && method == "POST") {
    return body.is_object() && body.value("host", json()) == host;
  }
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

// /v1 collection name -> stored kind.
std::string kindOf(const std::string& collection) {
  if (collection == "networks") return "network";
  if (collection == "qos_policies") return "policy";
  if (collection == "ports") return "port";
  if (collection == "servers") return "server";
  if (collection == "agents") return "agent";
  return "";
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
  if (!agentHost.empty() && !agentMayCall(req.method, segs, body, agentHost)) {
    respond(errorReply({placement::Errc::kForbidden,
                        "an agent's credential acts only as its host (" + agentHost +
                            "): it may heartbeat, read that host's bindings and report its "
                            "ports' status"}));
    return;
  }
  // GET /v1/hosts/{host}/bindings?revision=N&wait=S: answer at once if the revision moved,
  // else when it moves or after S seconds.
  if (req.method == "GET" && segs.size() == 4 && segs[1] == "hosts" && segs[3] == "bindings") {
    std::vector<std::pair<std::string, std::string>> query;
    http::parseQuery(req.query, query);
    std::optional<uint64_t> revision;
    int waitSeconds = 0;
    for (const auto& [k, v] : query) {
      try {
        if (k == "revision") revision = std::stoull(v);
        if (k == "wait") waitSeconds = std::clamp(std::stoi(v), 0, 120);
      } catch (const std::exception&) {
        respond(errorReply(placement::badRequest("bindings: '" + k + "' must be a number")));
        return;
      }
    }
    std::string host = segs[2];
    auto answer = [this, host, respond] { respond(jsonReply(200, service_.hostBindings(host))); };
    if (!revision || waitSeconds == 0) {
      answer();
      return;
    }
    service_.waitForBindings(host, *revision,
                             std::chrono::steady_clock::now() + std::chrono::seconds(waitSeconds),
                             answer);
    return;
  }
  if (const auto* rules = bodyRules(req.method, segs)) {
    if (auto wrong = wrongFieldType(body, *rules)) {
      respond(errorReply(*wrong));
      return;
    }
  }
  // Any other exception is the HTTP layer's: a 500 naming the request id, the text logged.
  http::Response response;
  try {
    // POST /v1/servers answers when the host's agent has reported (or at the binding timeout);
    // no thread waits for it.
    if (req.method == "POST" && segs.size() == 2 && segs[1] == "servers") {
      service_.createServer(body, [respond](ApiResult<json> r) { respond(reply(r, 201)); });
      return;
    }
    response = route(req, segs, body, agentHost);
  } catch (const json::exception& e) {
    response = wrongTypeReply(e);
  }
  respond(std::move(response));
}

http::Response V1Api::route(const http::Request& req, const std::vector<std::string>& segs,
                            const json& body, const std::string& agentHost) {
  const std::string& m = req.method;
  if (segs.size() < 2) return jsonReply(200, {{"version", "v1"}});
  std::string kind = kindOf(segs[1]);
  if (kind.empty()) return errorReply(placement::notFound("no such collection /v1/" + segs[1]));
  if (segs.size() == 2) {
    if (m == "GET") return jsonReply(200, {{segs[1], service_.list(kind)}});
    if (m != "POST")
      return errorReply({placement::Errc::kMethodNotAllowed, "use GET or POST on /v1/" + segs[1]});
    if (kind == "network") return reply(service_.createNetwork(body), 201);
    if (kind == "policy") return reply(service_.createPolicy(body), 201);
    if (kind == "port") return reply(service_.createPort(body), 201);
    if (kind == "agent") return reply(service_.heartbeat(body), 200);
    // POST /v1/servers never gets here: handle() answers it asynchronously.
    return errorReply(placement::notFound("no such URL " + req.path));
  }
  const std::string& ref = segs[2];
  if (segs.size() == 3) {
    if (m == "GET") return reply(service_.show(kind, ref));
    if (m == "DELETE") {
      auto st = service_.deleteObject(kind, ref);
      if (!st) return errorReply(st.error());
      http::Response r;
      r.status = 204;
      return r;
    }
    return errorReply(
        {placement::Errc::kMethodNotAllowed, "use GET or DELETE on /v1/" + segs[1] + "/" + ref});
  }
  if (kind == "policy" && segs[3] == "rules") {
    if (segs.size() == 4 && m == "POST") return reply(service_.createRule(ref, body), 201);
    if (segs.size() == 5 && m == "PUT") return reply(service_.updateRule(ref, segs[4], body));
  }
  if (kind == "port" && segs.size() == 4 && segs[3] == "binding_status" && m == "PUT") {
    return reply(service_.reportBindingStatus(ref, body, agentHost));
  }
  return errorReply(placement::notFound("no such URL " + req.path));
}

}  // namespace bwfloor::ports
