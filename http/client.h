#pragma once
// Blocking HTTP/1.1 client with one kept-alive connection, for the agent (placement, server) and
// bwfloorctl. Not thread-safe: one client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/message.h"

namespace bwfloor::http {

struct Url {
  bool https = false;
  std::string host;
  uint16_t port = 80;    // 443 for https:// without a port
  std::string basePath;  // "/placement" for "http://127.0.0.1:8778/placement", no trailing '/'
  std::string origin() const;  // "https://host:port"
};
// http:// and https:// URLs; the error says what is wrong with the text.
Result<Url> parseUrl(std::string_view text);

// How an https:// server is verified: its certificate must chain to a CA of `caFile` (PEM), or
// of the system's store when it is empty, and name the URL's host. There is no "insecure" mode.
struct ClientTls {
  std::string caFile;
};

class HttpClient {
 public:
  explicit HttpClient(Url base, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      ClientTls tls = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends METHOD basePath+path; reconnects once if a kept-alive connection was closed by the
  // server. Transport failures (also a certificate that does not verify, or a CA file that cannot
  // be read) are ErrorCode::kUnavailable naming the URL; any HTTP status is a value.
  Result<Response> send(const std::string& method, const std::string& path,
                        const Headers& headers = {}, const std::string& body = {});
  // Per-call timeout override (long-poll).
  void setTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  const Url& base() const { return base_; }

 private:
  struct Impl;
  Url base_;
  std::chrono::milliseconds timeout_;
  ClientTls tls_;
  std::unique_ptr<Impl> impl_;
};

// "URL1,URL2,...": the endpoints of one service (replicas), in order of preference. Every item
// must parse; the error names the one that does not.
Result<std::vector<Url>> parseUrlList(std::string_view text);

// One service at several endpoints: a request goes to the endpoint that answered last; when it
// cannot be reached (a transport failure, not an HTTP error status) the next ones are tried in
// turn, once each, and the one that answers is kept. Not thread-safe, like HttpClient.
class FailoverClient {
 public:
  FailoverClient(std::vector<Url> endpoints, std::chrono::milliseconds timeout, ClientTls tls = {});
  Result<Response> send(const std::string& method, const std::string& path,
                        const Headers& headers = {}, const std::string& body = {});
  void setTimeout(std::chrono::milliseconds timeout);
  const Url& current() const { return clients_[current_]->base(); }

 private:
  std::vector<std::unique_ptr<HttpClient>> clients_;
  size_t current_ = 0;
};

}  // namespace bwfloor::http
