#include "placement/api/placement_api.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <regex>

#include "core/json_depth.h"
#include "core/logging.h"
#include "core/uuid.h"
#include "http/server.h"
#include "placement/api/handlers.h"
#include "placement/api/python_text.h"
#include "placement/api/version_document.h"

namespace bwfloor::placement {
namespace {

std::vector<std::string> splitPath(const std::string& path) {
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

bool matches(const Route& r, const std::vector<std::string>& segs,
             std::vector<std::string>& params) {
  if (r.segments.size() != segs.size()) return false;
  params.clear();
  for (size_t i = 0; i < segs.size(); ++i) {
    if (r.segments[i] == "{}") {
      params.push_back(segs[i]);
    } else if (r.segments[i] != segs[i]) {
      return false;
    }
  }
  return true;
}

// microversion_parse, as Placement's middleware runs it: the header's values folded with ',',
// the last "placement <version>" part wins (service name in any case; missing = 1.0), and the
// version is int(major), int(minor) - so "1. 5" and "1.05" are 1.5 - that must be one this
// server serves.
ApiResult<Microversion> negotiate(const http::Request& req) {
  Microversion v;
  std::string folded;
  for (const auto& value : req.headers.findAll("openstack-api-version")) {
    folded += (folded.empty() ? "" : ",") + value;
  }
  std::optional<std::string> chosen;
  const auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  const auto strip = [&](std::string text) {
    while (!text.empty() && space(text.front())) text.erase(0, 1);
    while (!text.empty() && space(text.back())) text.pop_back();
    return text;
  };
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t comma = folded.find(',', start);
    parts.push_back(folded.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (auto it = parts.rbegin(); it != parts.rend() && !chosen; ++it) {
    const std::string part = strip(*it);
    const auto gap = std::find_if(part.begin(), part.end(), space);
    if (gap == part.end()) continue;  // one word: not "service version"
    if (http::iequals(std::string(part.begin(), gap), "placement")) {
      chosen = strip(std::string(gap, part.end()));
    }
  }
  if (!chosen) return v;
  const std::string text = *chosen == "latest" ? "1." + std::to_string(kMaxMinor) : *chosen;
  const size_t dot = text.find('.');
  if (dot == std::string::npos) {
    return badRequest("Invalid microversion: invalid version string: " + text +
                      "; Version.__new__() missing 1 required positional argument: 'minor'");
  }
  const std::string major = text.substr(0, dot);
  const std::string minor = text.substr(dot + 1);
  for (const std::string* part : {&major, &minor}) {
    if (!python::intSyntax(*part)) {
      return badRequest("Invalid microversion: invalid version string: " + text + "; " +
                        python::intError(*part));
    }
  }
  // A number too big for 64 bits is still a number to Python, just not a version we serve.
  const auto ma = python::parseInt(major);
  const auto mi = python::parseInt(minor);
  if (!ma || !mi || *ma != 1 || *mi < kMinMinor || *mi > kMaxMinor) {
    return ApiError{Errc::kNotAcceptable,
                    "Invalid microversion: Unacceptable version header: " + text,
                    "placement.undefined_code"};
  }
  v.major = 1;
  v.minor = static_cast<int>(*mi);
  return v;
}

const char* kNotAllowed = "The method specified is not allowed for this resource.";

// Bad version header: the middleware had no version, so neither header; a 406 says what is
// supported (util.json_error_formatter).
http::Response versionError(const RequestContext& ctx, const ApiError& error) {
  http::Response resp = unversionedErrorResponse(ctx, error);
  if (error.errc == Errc::kNotAcceptable) {
    auto body = nlohmann::json::parse(resp.body, nullptr, false);
    if (!body.is_discarded() && body.contains("errors")) {
      body["errors"][0]["max_version"] = "1." + std::to_string(kMaxMinor);
      body["errors"][0]["min_version"] = "1." + std::to_string(kMinMinor);
      resp.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return resp;
}

std::set<std::string> parseRoles(const std::string& text) {
  std::set<std::string> roles;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string role =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    role.erase(0, role.find_first_not_of(' '));
    role.erase(role.find_last_not_of(' ') + 1);
    if (!role.empty()) roles.insert(role);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return roles;
}

// Fills in who is calling; returns false when the caller is not authenticated. The auth
// middleware sits outside the microversion one, so a 401 carries no version headers.
//
// noauth2 is Placement's NoAuthMiddleware (placement/auth.py) read through oslo_context: the token
// is USER[:PROJECT]; X-Roles, when sent, are the roles (keystone flattens implied roles, so an
// admin sends "admin,member,reader"), else the user "admin" has role admin; a non-empty
// OpenStack-System-Scope makes the caller system scoped and then the token names no project
// (X-Project-Id still does, as oslo_context reads it first).
bool authenticate(const ApiOptions& options, const http::Request& req, RequestContext& ctx) {
  const std::string* token = req.headers.find("x-auth-token");
  if (!token || token->empty()) return false;
  if (options.auth == AuthStrategy::kNoAuth2) {
    size_t colon = token->find(':');
    ctx.userId = token->substr(0, colon);
    ctx.projectId = colon == std::string::npos ? ctx.userId : token->substr(colon + 1);
    if (ctx.projectId.empty()) ctx.projectId = ctx.userId;
    if (const std::string* roles = req.headers.find("x-roles")) {
      ctx.roles = parseRoles(*roles);
    } else if (ctx.userId == "admin") {
      ctx.roles.insert("admin");
    }
    if (const std::string* scope = req.headers.find("openstack-system-scope");
        scope && !scope->empty()) {
      ctx.systemScope = *scope;
      ctx.projectId.clear();
    }
  } else {
    // Token mode: who the caller is comes from the token alone. An admin token is a system
    // admin (roles admin and reader, system scope "all"); X-Project-Id is believed from it only
    // (a service acting for a project). A reader token reads as a reader of its one project.
    ctx.userId = "token";
    ctx.projectId = "token";
    if (std::find(options.adminTokens.begin(), options.adminTokens.end(), *token) !=
        options.adminTokens.end()) {
      ctx.roles = {"admin", "member", "reader"};
      ctx.systemScope = "all";
      ctx.projectId.clear();
      if (const std::string* project = req.headers.find("x-project-id")) ctx.projectId = *project;
    } else if (auto reader = options.readerTokens.find(*token);
               reader != options.readerTokens.end()) {
      ctx.roles = {"reader"};
      ctx.projectId = reader->second;
    } else if (auto agent = options.agentTokens.find(*token); agent != options.agentTokens.end()) {
      ctx.roles = {"agent"};
      ctx.agentHost = agent->second;
    } else {
      return false;
    }
    return true;
  }
  if (const std::string* project = req.headers.find("x-project-id")) ctx.projectId = *project;
  return true;
}

// oslo_context's to_policy_values, with None for what the caller does not have.
policy::Credentials credentialsOf(const RequestContext& ctx) {
  auto value = [](const std::string& s) { return s.empty() ? policy::Value() : s; };
  policy::Credentials creds;
  creds.roles.assign(ctx.roles.begin(), ctx.roles.end());
  creds.values = {{"user_id", value(ctx.userId)},
                  {"project_id", value(ctx.projectId)},
                  {"system_scope", value(ctx.systemScope)},
                  {"domain_id", std::nullopt},
                  {"is_admin_project", "True"}};
  return creds;
}

// The target each handler passes to context.can(): GET /usages the project it asks about (the
// last project_id of the query, as webob's GET.get; None without one); every other handler
// none, so RequestContext.can's default: the caller's own project and user.
policy::Target targetOf(const Route& route, const RequestContext& ctx) {
  auto value = [](const std::string& s) { return s.empty() ? policy::Value() : s; };
  if (route.handler == handlers::getUsages) {
    policy::Value project;
    std::vector<std::pair<std::string, std::string>> query;
    if (http::parseQuery(ctx.req.query, query)) {
      for (const auto& [key, v] : query) {
        if (key == "project_id") project = v;
      }
    }
    return {{"project_id", project}};
  }
  return {{"project_id", value(ctx.projectId)}, {"user_id", value(ctx.userId)}};
}

// The provider's tree is rooted at a provider named `host`.
bool inTreeOf(const PlacementModel& model, const std::string& uuid, const std::string& host) {
  auto node = model.getProvider(uuid);
  if (!node) return false;
  auto root = model.getProvider(node->rootUuid);
  return root && root->name == host;
}

// An agent's credential reads everything and writes only the provider trees rooted at its host
// (plus custom traits, which its trees use). Placement's policy has no such persona; it keeps a
// compromised compute node from rewriting another host's inventory.
bool agentMayCall(const PlacementModel& model, const Route& route,
                  const std::vector<std::string>& params, const RequestContext& ctx) {
  using namespace handlers;  // NOLINT(google-build-using-namespace)
  if (route.method == "GET" || route.handler == putTrait) return true;
  const bool providerRoute = !route.segments.empty() && route.segments[0] == "resource_providers";
  if (!providerRoute) return false;
  // A new parent, on create or update, must be in the agent's trees too.
  const nlohmann::json body = parseUntrustedJson(ctx.req.body);
  std::string parent;
  if (body.is_object() && body.contains("parent_provider_uuid") &&
      body["parent_provider_uuid"].is_string()) {
    parent = body["parent_provider_uuid"];
  }
  if (!parent.empty() && !inTreeOf(model, parent, ctx.agentHost)) return false;
  if (route.handler == createProvider) {
    // A root is the agent's own only under its host's name.
    return !parent.empty() ||
           (body.is_object() && body.value("name", nlohmann::json()) == ctx.agentHost);
  }
  // Every other provider route names the provider first; a missing one is the handler's 404.
  return params.empty() || !model.getProvider(params[0]) ||
         inTreeOf(model, params[0], ctx.agentHost);
}

http::Response versionDocument(const RequestContext& ctx) {
  if (ctx.req.method != "GET") {
    http::Response resp = errorResponse(ctx, {Errc::kMethodNotAllowed, kNotAllowed});
    resp.headers.set("allow", "GET");
    return resp;
  }
  return jsonResponse(ctx, 200, nlohmann::json::parse(versionDocumentJson()),
                      static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace

PlacementApi::PlacementApi(PlacementModel& model, ApiOptions options)
    : model_(model), options_(std::move(options)), policy_(options_.policy) {
  if (!policy_) {
    auto defaults = policy::Enforcer::create({}, policy::placementDefaults());
    if (!defaults) {
      logger("placement")->critical("Placement's default policy: {}", defaults.error().message());
      std::abort();
    }
    policy_ = *defaults;
  }
  // Each route with the rule its Placement handler enforces (placement/handlers/*.py).
  using namespace handlers;  // NOLINT(google-build-using-namespace)
  const std::string rp = "resource_providers";
  // One route a line.
  // clang-format off
  routes_ = {
      {"GET", {rp}, 0, 99, listProviders, "placement:resource_providers:list"},
      {"POST", {rp}, 0, 99, createProvider, "placement:resource_providers:create"},
      {"GET", {rp, "{}"}, 0, 99, getProvider, "placement:resource_providers:show"},
      {"DELETE", {rp, "{}"}, 0, 99, deleteProvider, "placement:resource_providers:delete"},
      {"PUT", {rp, "{}"}, 0, 99, updateProvider, "placement:resource_providers:update"},
      {"GET", {rp, "{}", "inventories"}, 0, 99, getInventories, "placement:resource_providers:inventories:list"},
      {"POST", {rp, "{}", "inventories"}, 0, 99, createInventory, "placement:resource_providers:inventories:create"},
      {"PUT", {rp, "{}", "inventories"}, 0, 99, putInventories, "placement:resource_providers:inventories:update"},
      {"DELETE", {rp, "{}", "inventories"}, 5, 99, deleteInventories, "placement:resource_providers:inventories:delete"},
      {"GET", {rp, "{}", "inventories", "{}"}, 0, 99, getInventory, "placement:resource_providers:inventories:show"},
      {"PUT", {rp, "{}", "inventories", "{}"}, 0, 99, putInventory, "placement:resource_providers:inventories:update"},
      {"DELETE", {rp, "{}", "inventories", "{}"}, 0, 99, deleteInventory, "placement:resource_providers:inventories:delete"},
      {"GET", {rp, "{}", "usages"}, 0, 99, getProviderUsages, "placement:resource_providers:usages"},
      {"GET", {rp, "{}", "aggregates"}, 1, 99, getAggregates, "placement:resource_providers:aggregates:list"},
      {"PUT", {rp, "{}", "aggregates"}, 1, 99, putAggregates, "placement:resource_providers:aggregates:update"},
      {"GET", {rp, "{}", "allocations"}, 0, 99, getProviderAllocations, "placement:resource_providers:allocations:list"},
      {"GET", {rp, "{}", "traits"}, 6, 99, getProviderTraits, "placement:resource_providers:traits:list"},
      {"PUT", {rp, "{}", "traits"}, 6, 99, putProviderTraits, "placement:resource_providers:traits:update"},
      {"DELETE", {rp, "{}", "traits"}, 6, 99, deleteProviderTraits, "placement:resource_providers:traits:delete"},
      {"GET", {"traits"}, 6, 99, listTraits, "placement:traits:list"},
      {"GET", {"traits", "{}"}, 6, 99, getTrait, "placement:traits:show"},
      {"PUT", {"traits", "{}"}, 6, 99, putTrait, "placement:traits:update"},
      {"DELETE", {"traits", "{}"}, 6, 99, deleteTrait, "placement:traits:delete"},
      {"GET", {"resource_classes"}, 2, 99, listResourceClasses, "placement:resource_classes:list"},
      {"POST", {"resource_classes"}, 2, 99, createResourceClass, "placement:resource_classes:create"},
      {"GET", {"resource_classes", "{}"}, 2, 99, getResourceClass, "placement:resource_classes:show"},
      {"PUT", {"resource_classes", "{}"}, 2, 99, putResourceClass, "placement:resource_classes:update"},
      {"DELETE", {"resource_classes", "{}"}, 2, 99, deleteResourceClass, "placement:resource_classes:delete"},
      {"GET", {"allocations", "{}"}, 0, 99, getConsumerAllocations, "placement:allocations:list"},
      {"PUT", {"allocations", "{}"}, 0, 99, putConsumerAllocations, "placement:allocations:update"},
      {"DELETE", {"allocations", "{}"}, 0, 99, deleteConsumerAllocations, "placement:allocations:delete"},
      {"POST", {"allocations"}, 13, 99, postAllocations, "placement:allocations:manage"},
      {"GET", {"usages"}, 9, 99, getUsages, "placement:usages"},
      {"POST", {"reshaper"}, 30, 99, reshape, "placement:reshaper:reshape"},
      {"GET", {"allocation_candidates"}, 10, 99, allocationCandidates, "placement:allocation_candidates:list"},
  };
  // clang-format on
}

bool PlacementApi::underPrefix(const std::string& path) const {
  return path == options_.prefix || path.rfind(options_.prefix + "/", 0) == 0;
}

// Mounted at the prefix and at the root, as deployments register Placement either way: a path
// whose first segment is one of Placement's collections is Placement's at the root too.
bool PlacementApi::owns(const std::string& path) const {
  if (path == "/" || underPrefix(path)) return true;
  const auto segs = splitPath(path);
  return !segs.empty() && std::any_of(routes_.begin(), routes_.end(), [&](const Route& r) {
    return !r.segments.empty() && r.segments.front() == segs.front();
  });
}

http::Response PlacementApi::handle(const http::Request& req) {
  std::string path = req.path;
  // Links and Location name the mount the request used.
  const bool prefixed = underPrefix(path);
  if (prefixed) path = path.substr(options_.prefix.size());
  auto segs = splitPath(path);
  RequestContext ctx{req, Microversion{},
                     req.requestId.empty() ? "req-" + uuid4().toString() : req.requestId};
  ctx.prefix = prefixed ? options_.prefix : "";
  ctx.randomizeCandidates = options_.randomizeCandidates;

  bool root = segs.empty();
  if (!root && !authenticate(options_, req, ctx)) {
    return unversionedErrorResponse(
        ctx, {Errc::kUnauthenticated, ""});  // webob.exc.HTTPUnauthorized(): no detail
  }
  auto version = negotiate(req);
  if (!version) return versionError(ctx, version.error());
  ctx.version = *version;
  if (root) return versionDocument(ctx);  // no auth

  // handler.py: a body needs a Content-Type, whatever the route (checked before routing).
  const std::string* type = req.headers.find("content-type");
  if (!req.body.empty() && (!type || type->empty())) {
    return escapedErrorResponse(ctx,
                                badRequest("content-type header required when content-length > 0"));
  }
  return dispatch(segs, ctx);
}

// Routing as Placement's: unknown URL -> 404 (raised by the router: no `vary`); a known URL with
// another method -> 405 listing every method declared for it, whatever the version (the router
// knows no versions); a route outside the requested version -> 404 (405 for DELETE inventories).
http::Response PlacementApi::dispatch(const std::vector<std::string>& segs, RequestContext& ctx) {
  const http::Request& req = ctx.req;
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    std::vector<std::string> params;
    if (!matches(r, segs, params)) continue;
    if (r.method != req.method) {
      if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
        allowed.push_back(r.method);
      }
      continue;
    }
    if (ctx.version.minor < r.minMinor || ctx.version.minor > r.maxMinor) {
      // Placement quirk: DELETE all inventories below 1.5 is 405, not 404.
      if (r.handler == handlers::deleteInventories) {
        // microversion_parse's own 405: no message, no allow header.
        return errorResponse(ctx, {Errc::kMethodNotAllowed, ""});
      }
      return errorResponse(ctx, notFound(""));
    }
    // Placement's policy for the route's rule; an agent's credential may also write its own
    // host's provider trees (agentMayCall: bwfloor's persona, not Placement's).
    const auto decision = policy_->enforce(r.rule, targetOf(r, ctx), credentialsOf(ctx));
    if (decision != policy::Decision::kAllowed &&
        (ctx.agentHost.empty() || !agentMayCall(model_, r, params, ctx))) {
      // placement/policy.py: InvalidScope becomes PolicyNotAuthorized(action), whose message is
      // then the rule name alone.
      return escapedErrorResponse(
          ctx, {Errc::kForbidden,
                decision == policy::Decision::kInvalidScope
                    ? std::string(r.rule)
                    : "Policy does not allow " + std::string(r.rule) + " to be performed."});
    }
    ctx.pathParams = std::move(params);
    if (!http::parseQuery(req.query, ctx.query)) {
      return errorResponse(ctx,
                           badRequest("Invalid query string parameters: bad percent-encoding"));
    }
    try {
      return r.handler(model_, ctx);
    } catch (const std::exception& e) {
      logger("placement")
          ->error("request_id={} {} {} failed: {}", ctx.requestId, req.method, req.target,
                  e.what());
      // The text stays in the log: it is the server's internals, not the client's business.
      return errorResponse(ctx, {Errc::kInternal, http::internalErrorDetail(ctx.requestId)});
    }
  }
  if (!allowed.empty()) {
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    http::Response resp = errorResponse(ctx, {Errc::kMethodNotAllowed, kNotAllowed});
    resp.headers.set("allow", allow);
    return resp;
  }
  return escapedErrorResponse(ctx, notFound(""));
}

}  // namespace bwfloor::placement
