#include "http/cors.h"

#include <algorithm>
#include <cctype>

namespace bwfloor::http {
namespace {

// CORS.simple_headers: allowed in a preflight whatever allow_headers says.
const std::vector<std::string> kSimpleHeaders = {
    "Accept",           "Accept-Language", "Content-Type",  "Cache-Control",
    "Content-Language", "Expires",         "Last-Modified", "Pragma"};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::string trim(std::string s) {
  const auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

// _split_header_values: the comma-separated entries, trimmed, empty ones dropped.
std::vector<std::string> splitValues(const std::string* header) {
  std::vector<std::string> out;
  if (!header) return out;
  size_t start = 0;
  while (start <= header->size()) {
    size_t comma = header->find(',', start);
    if (comma == std::string::npos) comma = header->size();
    std::string value = trim(header->substr(start, comma - start));
    if (!value.empty()) out.push_back(std::move(value));
    start = comma + 1;
  }
  return out;
}

}  // namespace

const std::string* Cors::allowedOrigin(const std::string& origin) const {
  const auto& origins = options_.allowedOrigins;
  for (const std::string& candidate : {origin, std::string("*")}) {
    auto it = std::find(origins.begin(), origins.end(), candidate);
    if (it != origins.end()) return &*it;
  }
  return nullptr;
}

Response Cors::preflight(const Request& req) const {
  Response resp;
  resp.status = 200;
  const std::string* origin = req.headers.find("origin");
  if (!origin) return resp;
  const std::string* allowed = allowedOrigin(*origin);
  if (!allowed) return resp;
  const std::string* method = req.headers.find("access-control-request-method");
  if (!method) return resp;
  const auto requested = splitValues(req.headers.find("access-control-request-headers"));
  const auto& methods = options_.allowMethods;
  if (std::find(methods.begin(), methods.end(), *method) == methods.end()) return resp;
  for (const auto& header : requested) {
    auto permitted = [&](const std::string& h) { return iequals(h, header); };
    if (std::none_of(options_.allowHeaders.begin(), options_.allowHeaders.end(), permitted) &&
        std::none_of(kSimpleHeaders.begin(), kSimpleHeaders.end(), permitted)) {
      return resp;
    }
  }
  resp.headers.set("vary", "Origin");
  resp.headers.set("access-control-allow-origin", *allowed);
  if (options_.allowCredentials) resp.headers.set("access-control-allow-credentials", "true");
  if (options_.maxAgeSeconds != 0) {
    resp.headers.set("access-control-max-age", std::to_string(options_.maxAgeSeconds));
  }
  resp.headers.set("access-control-allow-methods", *method);
  if (!requested.empty()) resp.headers.set("access-control-allow-headers", join(requested));
  return resp;
}

void Cors::decorate(const Request& req, Response& resp) const {
  if (resp.headers.find("access-control-allow-origin")) return;
  const std::string* origin = req.headers.find("origin");
  if (!origin) return;
  const std::string* allowed = allowedOrigin(*origin);
  if (!allowed) return;
  if (const std::string* vary = resp.headers.find("vary")) {
    resp.headers.set("vary", *vary + ",Origin");
  } else {
    resp.headers.set("vary", "Origin");
  }
  resp.headers.set("access-control-allow-origin", *allowed);
  if (options_.allowCredentials) resp.headers.set("access-control-allow-credentials", "true");
  if (!options_.exposeHeaders.empty()) {
    resp.headers.set("access-control-expose-headers", join(options_.exposeHeaders));
  }
}

}  // namespace bwfloor::http
