#include "http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/logging.h"
#include "core/uuid.h"

namespace bwfloor::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Response errorResponse(int status, const std::string& detail, const std::string& requestId,
                       const std::string& code) {
  nlohmann::json e = {{"status", status},
                      {"title", reasonPhrase(status)},
                      {"detail", detail},
                      {"request_id", requestId.empty() ? "req-" + uuid4().toString() : requestId}};
  if (!code.empty()) e["code"] = code;
  Response resp;
  resp.status = status;
  resp.headers.set("content-type", "application/json");
  resp.body = nlohmann::json{{"errors", {e}}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
  return resp;
}

std::string internalErrorDetail(const std::string& requestId) {
  return "An internal error occurred (request_id " + requestId +
         "); the server's log has the details.";
}

namespace {

using BeastParser = bhttp::request_parser<bhttp::string_body>;

void configure(BeastParser& parser, const ServerOptions& options) {
  parser.body_limit(options.maxBodyBytes);
  parser.header_limit(static_cast<uint32_t>(std::min<size_t>(options.maxHeaderBytes, UINT32_MAX)));
}

// The answer to bytes that are not an acceptable request; nullopt when the connection just ends.
// A header limit hit before the request line was parsed is a URL too long (414), after it too
// many or too large header fields (431).
std::optional<Response> malformedRequestResponse(beast::error_code ec, const BeastParser& parser) {
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == beast::error::timeout || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || ec == asio::error::eof ||
      ec == asio::error::broken_pipe) {
    return std::nullopt;
  }
  if (ec == bhttp::error::body_limit) {
    return errorResponse(413, "The request body is larger than this server accepts.");
  }
  if (ec == bhttp::error::header_limit) {
    if (parser.get().target().empty()) {
      return errorResponse(414,
                           "The request line (method and URL) is longer than this server "
                           "accepts.");
    }
    return errorResponse(431, "The request's header fields are larger than this server accepts.");
  }
  // Every other parser error (bad Content-Length, chunking, field, method, version, ...).
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return errorResponse(400, "Malformed HTTP request: " + ec.message() + ".");
  }
  return std::nullopt;  // a socket error: nobody to answer
}

Request toRequest(bhttp::request<bhttp::string_body>&& in, const std::string& peer) {
  Request req;
  req.method = std::string(in.method_string());
  req.target = std::string(in.target());
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string_view rawPath = target.substr(0, q);
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  if (!percentDecode(rawPath, req.path)) req.path = std::string(rawPath);
  for (const auto& field : in) {
    req.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(in.body());
  req.peer = peer;
  return req;
}

// Sessions waiting for their handler's answer, owned here so that a responder can hold a weak
// reference: a long-poll whose client left is freed at once, and stop() destroys every session
// while the io_context still exists (a responder kept by the application does nothing after).
struct SessionRegistry {
  std::mutex mutex;
  bool open = true;
  std::unordered_map<const void*, std::shared_ptr<void>> live;
};

// One connection: read a request, hand it to the handler, write its answer, repeat while the
// client keeps the connection alive. All socket work runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const AsyncHandler& handler, const ServerOptions& options,
          std::shared_ptr<SessionRegistry> registry)
      : stream_(std::move(socket)),
        handler_(handler),
        options_(options),
        registry_(std::move(registry)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->readNext(); });
  }

 private:
  void readNext() {
    parser_.emplace();
    configure(*parser_, options_);
    stream_.expires_after(std::chrono::seconds(options_.idleTimeoutSeconds));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec) {
      auto answer = malformedRequestResponse(ec, *parser_);
      if (!answer) {
        if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout) {
          logger("http")->debug("peer={} read error: {}", peer_, ec.message());
        }
        return close();
      }
      logger("http")->info("peer={} malformed request: {} -> {}", peer_, ec.message(),
                           answer->status);
      keepAlive_ = false;
      return write(std::move(*answer));
    }
    auto raw = parser_->release();
    keepAlive_ = raw.keep_alive();
    version_ = raw.version();
    stream_.expires_never();  // the handler may take long (long-poll)
    Request req = toRequest(std::move(raw), peer_);
    const std::string method = req.method;
    const std::string target = req.target;
    waitingForHandler_ = true;
    register_();
    watchForClientClose();
    try {
      handler_(std::move(req), responder());
    } catch (const std::exception& e) {
      failRequest(method, target, e.what());
    } catch (...) {
      failRequest(method, target, "unknown exception");
    }
  }

  // Called at most once per request; a late or second call does nothing.
  Responder responder() {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    return [weak = weak_from_this(), registry = registry_, answered](Response resp) {
      if (answered->exchange(true)) return;
      std::lock_guard<std::mutex> lock(registry->mutex);
      auto self = weak.lock();
      if (!registry->open || !self) return;
      asio::post(self->stream_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->answer(std::move(resp)); });
    };
  }

  void failRequest(const std::string& method, const std::string& target, const char* what) {
    const std::string requestId = "req-" + uuid4().toString();
    logger("http")->error("request_id={} peer={} {} {} failed: {}", requestId, peer_, method,
                          target, what);
    responder()(errorResponse(500, internalErrorDetail(requestId), requestId));
  }

  // A client that closes while its request waits (a long-poll) is dropped now, not at the
  // request's deadline: its descriptor is what an idle crowd exhausts.
  void watchForClientClose() {
    const uint64_t serial = ++requestSerial_;
    stream_.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), serial](beast::error_code ec) {
          if (ec || serial != self->requestSerial_ || !self->waitingForHandler_) return;
          char byte = 0;
          const ssize_t n =
              ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
          // 0 is the client's FIN; bytes waiting are a pipelined request, read after the answer.
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            self->close();
          }
        });
  }

  void answer(Response&& resp) {
    if (!waitingForHandler_) return;
    waitingForHandler_ = false;
    unregister();
    write(std::move(resp));
  }

  void write(Response&& resp) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(version_);
    out->result(static_cast<unsigned>(resp.status));
    for (const auto& [name, value] : resp.headers.items()) out->insert(name, value);
    out->body() = std::move(resp.body);
    out->keep_alive(keepAlive_);
    out->prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    bhttp::async_write(stream_, *out,
                       [self = shared_from_this(), out](beast::error_code ec, size_t) {
                         if (ec || !self->keepAlive_) return self->close();
                         self->readNext();
                       });
  }

  void close() {
    waitingForHandler_ = false;
    unregister();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  void register_() {
    std::lock_guard<std::mutex> lock(registry_->mutex);
    if (registry_->open) registry_->live[this] = shared_from_this();
  }
  void unregister() {
    std::shared_ptr<void> keep;  // destroyed after the lock is released
    std::lock_guard<std::mutex> lock(registry_->mutex);
    auto it = registry_->live.find(this);
    if (it == registry_->live.end()) return;
    keep = std::move(it->second);
    registry_->live.erase(it);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<BeastParser> parser_;
  const AsyncHandler& handler_;
  const ServerOptions& options_;
  std::shared_ptr<SessionRegistry> registry_;
  std::string peer_;
  bool keepAlive_ = true;
  bool waitingForHandler_ = false;
  uint64_t requestSerial_ = 0;
  unsigned version_ = 11;
};

}  // namespace

ParsedRequest parseRequest(std::string_view bytes, const ServerOptions& options) {
  if (bytes.empty()) return {};  // nothing yet (Beast's put_eof may not see an empty stream)
  BeastParser parser;
  configure(parser, options);
  parser.eager(true);
  beast::error_code ec;
  size_t used = 0;
  while (!ec && used < bytes.size() && !parser.is_done()) {
    used += parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == bhttp::error::need_more) return {};
  }
  ParsedRequest out;
  if (ec) {
    out.error = malformedRequestResponse(ec, parser);
    if (!out.error) out.error = errorResponse(400, "Malformed HTTP request: " + ec.message());
    return out;
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return {};
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return {};
  }
  out.request = toRequest(parser.release(), "fuzz");
  return out;
}

struct HttpServer::Impl {
  Impl(ServerOptions opts, AsyncHandler h)
      : options(std::move(opts)),
        handler(std::move(h)),
        acceptor(io),
        acceptRetry(io),
        registry(std::make_shared<SessionRegistry>()) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        std::make_shared<Session>(std::move(sock), handler, options, registry)->run();
        return accept();
      }
      // Out of descriptors (EMFILE) the listening socket stays readable: accepting again at
      // once spins a core and floods the log. Wait, and say so at most once a second.
      noteAcceptFailure(ec);
      acceptRetry.expires_after(std::chrono::milliseconds(100));
      acceptRetry.async_wait([this](beast::error_code waitError) {
        if (!waitError && acceptor.is_open()) accept();
      });
    });
  }

  void noteAcceptFailure(beast::error_code ec) {
    const auto now = std::chrono::steady_clock::now();
    ++acceptFailures;
    if (now - lastAcceptWarning < std::chrono::seconds(1)) return;
    logger("http")->warn(
        "accept failed: {} ({} failure(s) in the last interval; retrying every 100 ms; "
        "raise LimitNOFILE if this is 'Too many open files')",
        ec.message(), acceptFailures);
    acceptFailures = 0;
    lastAcceptWarning = now;
  }

  ServerOptions options;
  AsyncHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer acceptRetry;
  std::shared_ptr<SessionRegistry> registry;
  std::chrono::steady_clock::time_point lastAcceptWarning;
  uint64_t acceptFailures = 0;
  std::vector<std::thread> threads;
  uint16_t boundPort = 0;
  bool running = false;
};

HttpServer::HttpServer(ServerOptions options, AsyncHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : HttpServer(std::move(options),
                 [h = std::move(handler)](Request&& req, Responder respond) { respond(h(req)); }) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  const std::string where = impl_->options.host + ":" + std::to_string(impl_->options.port);
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return makeError(ErrorCode::kInvalidArgument, "bad listen address " + where);
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message(),
                     ec.value());
  }
  impl_->boundPort = acc.local_endpoint().port();
  impl_->accept();
  impl_->running = true;
  int threads = std::max(1, impl_->options.threads);
  for (int i = 0; i < threads; ++i) impl_->threads.emplace_back([this] { impl_->io.run(); });
  logger("http")->info("listening on {}:{} threads={}", impl_->options.host, impl_->boundPort,
                       threads);
  return Status::ok();
}

void HttpServer::stop() {
  if (!impl_ || !impl_->running) return;
  impl_->running = false;
  {
    // From here on a responder held by the application does nothing.
    std::lock_guard<std::mutex> lock(impl_->registry->mutex);
    impl_->registry->open = false;
  }
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->acceptRetry.cancel();
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Sessions waiting for an answer die now, while their io_context exists; the rest go with the
  // handlers the io_context still holds.
  std::unordered_map<const void*, std::shared_ptr<void>> waiting;
  {
    std::lock_guard<std::mutex> lock(impl_->registry->mutex);
    waiting.swap(impl_->registry->live);
  }
  waiting.clear();
}

uint16_t HttpServer::port() const { return impl_->boundPort; }

}  // namespace bwfloor::http
