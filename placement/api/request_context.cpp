#include "placement/api/request_context.h"

#include <ctime>

#include "placement/api/error_status.h"

namespace bwfloor::placement {
namespace {

enum class VersionHeaders { kNone, kVersionOnly, kVersionAndVary };

void commonHeaders(const RequestContext& ctx, http::Response& resp,
                   VersionHeaders which = VersionHeaders::kVersionAndVary) {
  if (which != VersionHeaders::kNone) {
    resp.headers.set("openstack-api-version", "placement " + ctx.version.toString());
  }
  if (which == VersionHeaders::kVersionAndVary) resp.headers.set("vary", "openstack-api-version");
  resp.headers.set("x-openstack-request-id", ctx.requestId);
}

// webob's choice: JSON only when asked for; */* or text/html first gives HTML; else text.
enum class ErrorFormat { kJson, kHtml, kText };
ErrorFormat errorFormat(const http::Request& req) {
  const std::string* accept = req.headers.find("accept");
  if (!accept) return ErrorFormat::kText;
  size_t json = accept->find("application/json");
  size_t html = accept->find("text/html");
  size_t any = accept->find("*/*");
  size_t firstHtml = std::min(html, any);
  if (firstHtml != std::string::npos && (json == std::string::npos || firstHtml < json)) {
    return ErrorFormat::kHtml;
  }
  if (json != std::string::npos) return ErrorFormat::kJson;
  return ErrorFormat::kText;
}

}  // namespace

std::string httpDate(int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string absoluteUrl(const RequestContext& ctx, const std::string& path) {
  const std::string* host = ctx.req.headers.find("host");
  if (!host || host->empty()) return path;
  return ctx.req.scheme + "://" + *host + path;
}

http::Response jsonResponse(const RequestContext& ctx, int status, const nlohmann::json& body,
                            int64_t lastModified) {
  http::Response resp;
  resp.status = status;
  resp.headers.set("content-type", "application/json");
  commonHeaders(ctx, resp);
  if (ctx.version.atLeast(15) && lastModified >= 0) {
    resp.headers.set("last-modified", httpDate(lastModified));
    resp.headers.set("cache-control", "no-cache");
  }
  resp.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return resp;
}

http::Response emptyResponse(const RequestContext& ctx, int status) {
  http::Response resp;
  resp.status = status;
  commonHeaders(ctx, resp);
  return resp;
}

namespace {

// webob escapes the detail of an HTML error page; it often quotes request text (<svg onload=...>).
std::string htmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#x27;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

http::Response formatError(const RequestContext& ctx, const ApiError& error, VersionHeaders which) {
  http::Response resp;
  const int status = httpStatus(error.errc);
  resp.status = status;
  commonHeaders(ctx, resp, which);
  const char* title = http::reasonPhrase(status);
  switch (errorFormat(ctx.req)) {
    case ErrorFormat::kJson: {
      nlohmann::json e = {{"status", status},
                          {"title", title},
                          {"detail", error.detail},
                          {"request_id", ctx.requestId}};
      if (ctx.version.atLeast(23)) e["code"] = error.code;
      resp.headers.set("content-type", "application/json");
      resp.body = nlohmann::json{{"errors", {e}}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace);
      break;
    }
    case ErrorFormat::kHtml:
      resp.headers.set("content-type", "text/html; charset=UTF-8");
      resp.body = "<html>\n <head>\n  <title>" + std::to_string(status) + " " + title +
                  "</title>\n </head>\n <body>\n  <h1>" + std::to_string(status) + " " + title +
                  "</h1>\n  " + htmlEscape(error.detail) + "<br /><br />\n\n\n\n </body>\n</html>";
      break;
    case ErrorFormat::kText:
      resp.headers.set("content-type", "text/plain; charset=UTF-8");
      resp.body = std::to_string(status) + " " + title + "\n\n" + error.detail + "\n\n   ";
      break;
  }
  return resp;
}

}  // namespace

http::Response errorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(ctx, error, VersionHeaders::kVersionAndVary);
}

http::Response escapedErrorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(ctx, error, VersionHeaders::kVersionOnly);
}

http::Response unversionedErrorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(ctx, error, VersionHeaders::kNone);
}

}  // namespace bwfloor::placement
