#include "placement/api/request_context.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <string_view>

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

// The error page format, as webob picks it (WSGIHTTPException.generate_response): the best of
// text/html and application/json by the Accept header's q-values (a tie goes to text/html),
// text/plain when neither is acceptable. Placement's request log first turns an absent or
// exactly "*/*" Accept into application/json (requestlog.py).
enum class ErrorFormat { kJson, kHtml, kText };

std::string trimmedLower(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t");
  std::string out(text.substr(first, last - first + 1));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The q-value the Accept header gives `offer` ("type/subtype"), by its most specific media range
// (webob's acceptable_offers); 0 when no range matches.
double acceptQuality(std::string_view accept, std::string_view offer) {
  const std::string_view offerType = offer.substr(0, offer.find('/'));
  double quality = 0;
  int best = 0;
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    std::string_view range = accept.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? accept.size() + 1 : comma + 1;
    std::string media = trimmedLower(range.substr(0, range.find(';')));
    double q = 1;
    bool otherParams = false;
    for (size_t semi = range.find(';'); semi != std::string_view::npos;) {
      size_t next = range.find(';', semi + 1);
      std::string param = trimmedLower(range.substr(semi + 1, next - semi - 1));
      if (param.rfind("q=", 0) == 0) {
        q = std::strtod(param.c_str() + 2, nullptr);
      } else if (!param.empty()) {
        otherParams = true;
      }
      semi = next;
    }
    int specificity = 0;
    if (media == offer) {
      specificity = otherParams ? 0 : 3;  // an offer has no parameters to match a range's
    } else if (media.size() > 2 && media.compare(media.size() - 2, 2, "/*") == 0 &&
               media.substr(0, media.size() - 2) == offerType) {
      specificity = 2;
    } else if (media == "*/*") {
      specificity = 1;
    }
    if (specificity > best) {
      best = specificity;
      quality = q;
    }
  }
  return quality;
}

ErrorFormat errorFormat(const http::Request& req) {
  const std::string* header = req.headers.find("accept");
  if (!header || *header == "*/*") return ErrorFormat::kJson;
  const double html = acceptQuality(*header, "text/html");
  const double json = acceptQuality(*header, "application/json");
  if (html > 0 && html >= json) return ErrorFormat::kHtml;
  if (json > 0) return ErrorFormat::kJson;
  return ErrorFormat::kText;
}

// What the client named in Accept, after the request log's rewrite (the 406 page quotes it).
std::string effectiveAccept(const http::Request& req) {
  const std::string* header = req.headers.find("accept");
  return !header || *header == "*/*" ? std::string("application/json") : *header;
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

http::Response undatedJsonResponse(const RequestContext& ctx, int status,
                                   const nlohmann::json& body) {
  http::Response resp = jsonResponse(ctx, status, body);
  if (ctx.version.atLeast(15)) resp.headers.set("cache-control", "no-cache");
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

// webob's explanation of a status, the first part of every error page's body.
const char* explanation(int status) {
  switch (status) {
    case 400:
      return "The server could not comply with the request since it is either malformed or "
             "otherwise incorrect.";
    case 401:
      return "This server could not verify that you are authorized to access the document you "
             "requested. Either you supplied the wrong credentials (e.g., bad password), or your "
             "browser does not understand how to supply the credentials required.";
    case 403:
      return "Access was denied to this resource.";
    case 404:
      return "The resource could not be found.";
    case 409:
      return "There was a conflict when trying to complete your request.";
    case 413:
      return "The request is larger than the server is willing or able to process.";
    case 500:
      return "The server has either erred or is incapable of performing the requested operation.";
    case 503:
      return "The server is currently unavailable. Please try again at a later time.";
    default:
      return "";
  }
}

// The body webob renders for an error (its body_template, one per exception class), with the
// message escaped for HTML or not. 405, 406 and 415 quote the request in their own templates.
std::string webobBody(const RequestContext& ctx, int status, const std::string& message,
                      bool html) {
  auto quote = [&](const std::string& text) { return html ? htmlEscape(text) : text; };
  const std::string detail = quote(message);
  switch (status) {
    case 405:
      return "The method " + quote(ctx.req.method) + " is not allowed for this resource. " +
             "<br /><br />\n" + detail;
    case 406:
      return "The resource could not be generated that was acceptable to your browser\n"
             "(content of type " +
             quote(effectiveAccept(ctx.req)) + ". <br /><br />\n" + detail;
    case 415: {
      const std::string* type = ctx.req.headers.find("content-type");
      return "The request media type " + quote(type ? *type : "") +
             " is not supported by this server.\n<br /><br />\n" + detail;
    }
    default:
      return std::string(explanation(status)) + "<br /><br />\n" + detail + "\n\n";
  }
}

// webob's strip_tags, applied to the JSON and plain-text bodies: newlines become spaces, a <br>
// becomes a newline, and any other <...> disappears (with what it held).
std::string stripTags(const std::string& text) {
  std::string flat;
  flat.reserve(text.size());
  for (char c : text) {
    if (c == '\r') continue;
    flat += c == '\n' ? ' ' : c;
  }
  std::string out;
  out.reserve(flat.size());
  for (size_t i = 0; i < flat.size();) {
    if (flat[i] != '<') {
      out += flat[i++];
      continue;
    }
    const size_t close = flat.find('>', i);
    if (close == std::string::npos) {
      out += flat.substr(i);
      break;
    }
    const bool br = flat.size() > i + 2 && (flat[i + 1] == 'b' || flat[i + 1] == 'B') &&
                    (flat[i + 2] == 'r' || flat[i + 2] == 'R');
    if (br) out += '\n';
    i = close + 1;
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
      if (status == 401) {
        // The auth middleware's 401 has no Placement formatter: webob's own JSON, unstripped.
        resp.headers.set("content-type", "application/json");
        resp.body = nlohmann::json{
            {"message", webobBody(ctx, status, error.detail, false)},
            {"code", "401 Unauthorized"},
            {"title",
             title}}.dump();
        break;
      }
      nlohmann::json e = {{"status", status},
                          {"title", title},
                          {"detail", stripTags(webobBody(ctx, status, error.detail, false))},
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
                  "</h1>\n  " + webobBody(ctx, status, error.detail, true) + "\n </body>\n</html>";
      break;
    case ErrorFormat::kText:
      resp.headers.set("content-type", "text/plain; charset=UTF-8");
      resp.body = std::to_string(status) + " " + title + "\n\n" +
                  stripTags(webobBody(ctx, status, error.detail, false));
      break;
  }
  return resp;
}

}  // namespace

http::Response errorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(
      ctx, error, error.trapped ? VersionHeaders::kVersionOnly : VersionHeaders::kVersionAndVary);
}

http::Response escapedErrorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(ctx, error, VersionHeaders::kVersionOnly);
}

http::Response unversionedErrorResponse(const RequestContext& ctx, const ApiError& error) {
  return formatError(ctx, error, VersionHeaders::kNone);
}

}  // namespace bwfloor::placement
