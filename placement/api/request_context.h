#pragma once
// What every Placement handler gets: the request, its negotiated microversion, who is calling,
// and helpers that build responses with Placement's headers and error format.

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "http/message.h"
#include "placement/model/types.h"

namespace bwfloor::placement {

struct Microversion {
  int major = 1;
  int minor = 0;
  bool atLeast(int m) const { return minor >= m; }
  std::string toString() const { return std::to_string(major) + "." + std::to_string(minor); }
};

struct RequestContext {
  const http::Request& req;
  Microversion version;
  std::string requestId;  // "req-<uuid4>"
  std::string userId;
  std::string projectId;
  std::set<std::string> roles;
  // "all" for a system-scoped caller (noauth2: the OpenStack-System-Scope header; token mode:
  // an admin token), else empty: the caller is scoped to projectId.
  std::string systemScope;
  // Set for an agent's credential ([auth] agent_tokens): the host it may act as. It writes only
  // the provider trees rooted at a provider of that name.
  std::string agentHost;
  std::vector<std::string> pathParams;  // the {placeholders} of the matched route, in order
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  bool randomizeCandidates = false;  // [placement] randomize_allocation_candidates
  std::string prefix;  // where the API is mounted ("/placement"), for links and Location

  bool hasRole(const std::string& role) const { return roles.count(role) > 0; }
  const std::string& param(size_t i) const { return pathParams.at(i); }
};

// A JSON response (with `last-modified` / `cache-control` from 1.15 when lastModified >= 0).
http::Response jsonResponse(const RequestContext& ctx, int status, const nlohmann::json& body,
                            int64_t lastModified = -1);
// As jsonResponse for a result Placement has no date for (webob drops a None last_modified):
// cache-control from 1.15, no last-modified.
http::Response undatedJsonResponse(const RequestContext& ctx, int status,
                                   const nlohmann::json& body);
http::Response emptyResponse(const RequestContext& ctx, int status);
// Placement's error body, in the format the Accept header asks for (JSON, HTML or text), with the
// `code` member from 1.23.
http::Response errorResponse(const RequestContext& ctx, const ApiError& error);
// An error that Placement raises outside the handler functions (router 404, policy 403, the
// content-type check): microversion_parse's middleware adds the version header but not `vary`.
http::Response escapedErrorResponse(const RequestContext& ctx, const ApiError& error);
// An error from before microversion negotiation (auth 401, bad version header 400/406): neither
// the version header nor `vary`; the request id is always there.
http::Response unversionedErrorResponse(const RequestContext& ctx, const ApiError& error);
// Absolute URL for Location headers, as webob makes them ("http://HOST" + path): clients such as
// keystoneauth join a relative one to their endpoint, which already ends in the prefix.
std::string absoluteUrl(const RequestContext& ctx, const std::string& path);
// RFC 1123 date for last-modified.
std::string httpDate(int64_t unixSeconds);

}  // namespace bwfloor::placement
