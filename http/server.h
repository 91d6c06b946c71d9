#pragma once
// HTTP/1.1 server on Boost.Beast/Asio: keep-alive, concurrent clients on a thread pool, handlers
// that may answer later (long-poll) from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/message.h"

namespace bwfloor::http {

// Called once per request; must call `respond` exactly once, from any thread, now or later. A
// responder outliving its connection (the client left) or the server (stopped) does nothing. An
// exception escaping the handler becomes a 500 naming only the request id (the text is logged).
using Responder = std::function<void(Response)>;
using AsyncHandler = std::function<void(Request&&, Responder)>;
using Handler = std::function<Response(const Request&)>;

// A certificate (chain) and its private key, PEM files: the server then speaks HTTPS only.
struct TlsFiles {
  std::string certFile;
  std::string keyFile;
};

// Loads the files as start() would: the error names the file and why.
Status checkTlsFiles(const TlsFiles& files);

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8778;  // 0 = any free port (tests)
  int threads = 2;
  size_t maxBodyBytes = 16 * 1024 * 1024;
  size_t maxHeaderBytes = 16 * 1024;  // request line + headers; more is 414 or 431
  int idleTimeoutSeconds = 120;       // keep-alive connections idle longer than this are closed
  std::optional<TlsFiles> tls;        // none: plain HTTP
};

// One request read from raw bytes exactly as a connection reads it: the request, or the error
// answer the server sends before closing (400, 413, 414, 431), or neither when the bytes end
// before the request does. For tests and the fuzzer.
struct ParsedRequest {
  std::optional<Request> request;
  std::optional<Response> error;
};
ParsedRequest parseRequest(std::string_view bytes, const ServerOptions& options);

// The JSON error body in Placement's format, as the HTTP layer and /v1 answer ("" request id: a
// new one; "" code: none, as below the APIs).
Response errorResponse(int status, const std::string& detail, const std::string& requestId = "",
                       const std::string& code = "");
// The detail of a 500: the request id to find the log line by, never the internal text.
std::string internalErrorDetail(const std::string& requestId);

class HttpServer {
 public:
  HttpServer(ServerOptions options, AsyncHandler handler);
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS files, binds and starts serving on background threads. Error names the file
  // or the address on failure.
  Status start();
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();
  // The bound port (useful with port 0).
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bwfloor::http
