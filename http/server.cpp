#include "http/server.h"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <type_traits>
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
  req.requestId = "req-" + uuid4().toString();
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

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: (TLS handshake,) read a request, hand it to the handler, write its answer,
// repeat while the client keeps the connection alive. All socket work runs on the connection's
// strand. `Stream` is a plain TCP stream or a TLS stream over one.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

 public:
  template <typename... StreamArgs>
  Session(const AsyncHandler& handler, const ServerOptions& options,
          std::shared_ptr<SessionRegistry> registry, tcp::socket&& socket,
          StreamArgs&... streamArgs)
      : stream_(std::move(socket), streamArgs...),
        handler_(handler),
        options_(options),
        registry_(std::move(registry)) {
    beast::error_code ec;
    auto endpoint = socket_().remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->readNext();
      }
    });
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  tcp::socket& socket_() { return beast::get_lowest_layer(stream_).socket(); }

  // A client that cannot complete TLS (plain HTTP, an untrusted certificate on its side) gets no
  // HTTP answer: there is no channel to send one on.
  void handshake() {
    tcp().expires_after(std::chrono::seconds(30));
    stream_.async_handshake(
        asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
          if (ec) {
            logger("http")->info("peer={} TLS handshake failed: {}", self->peer_, ec.message());
            return self->close();
          }
          self->readNext();
        });
  }

  void readNext() {
    parser_.emplace();
    configure(*parser_, options_);
    tcp().expires_after(std::chrono::seconds(options_.idleTimeoutSeconds));
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
    tcp().expires_never();  // the handler may take long (long-poll)
    Request req = toRequest(std::move(raw), peer_);
    if constexpr (kTls) req.scheme = "https";
    const std::string method = req.method;
    const std::string target = req.target;
    const std::string requestId = req.requestId;
    waitingForHandler_ = true;
    register_();
    watchForClientClose();
    LogRequestScope logScope(requestId);  // what the handler logs names the request
    try {
      handler_(std::move(req), responder());
    } catch (const std::exception& e) {
      failRequest(method, target, requestId, e.what());
    } catch (...) {
      failRequest(method, target, requestId, "unknown exception");
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

  void failRequest(const std::string& method, const std::string& target,
                   const std::string& requestId, const char* what) {
    logger("http")->error("request_id={} peer={} {} {} failed: {}", requestId, peer_, method,
                          target, what);
    responder()(errorResponse(500, internalErrorDetail(requestId), requestId));
  }

  // A client that closes while its request waits (a long-poll) is dropped now, not at the
  // request's deadline: its descriptor is what an idle crowd exhausts.
  void watchForClientClose() { watchForClientClose(++requestSerial_); }

  void watchForClientClose(uint64_t serial) {
    socket_().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                  serial](beast::error_code ec) {
      if (ec || serial != self->requestSerial_ || !self->waitingForHandler_) return;
      char byte = 0;
      const ssize_t n = ::recv(self->socket_().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // a pipelined request: read after the answer
      // 0 is the client's FIN. A readiness report with nothing to read (EAGAIN) is spurious:
      // wait again, or that client's leaving would go unnoticed until the request's deadline
      // (one socket in ~20 runs of 20 long-polls did).
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return self->watchForClientClose(serial);
      }
      self->close();
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
    tcp().expires_after(std::chrono::seconds(30));
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
    socket_().shutdown(tcp::socket::shutdown_send, ec);
    socket_().close(ec);
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

  Stream stream_;
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

namespace {

// The certificate and key, loaded: a file that is missing, unreadable or not PEM, or a key that
// is not the certificate's, is an error naming the file.
Result<asio::ssl::context> makeServerTlsContext(const TlsFiles& files) {
  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  tls.use_certificate_chain_file(files.certFile, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument,
                     "TLS certificate " + files.certFile + ": " + ec.message());
  }
  tls.use_private_key_file(files.keyFile, asio::ssl::context::pem, ec);
  if (ec) {
    return makeError(ErrorCode::kInvalidArgument, "TLS key " + files.keyFile + ": " + ec.message() +
                                                      " (is it the private key of " +
                                                      files.certFile + "?)");
  }
  return tls;
}

}  // namespace

Status checkTlsFiles(const TlsFiles& files) {
  auto context = makeServerTlsContext(files);
  if (!context) return context.error();
  return Status::ok();
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
        if (tls) {
          std::make_shared<Session<TlsStream>>(handler, options, registry, std::move(sock), *tls)
              ->run();
        } else {
          std::make_shared<Session<PlainStream>>(handler, options, registry, std::move(sock))
              ->run();
        }
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

  Status loadTls() {
    if (!options.tls) return Status::ok();
    ASSIGN_OR_RETURN(auto context, makeServerTlsContext(*options.tls));
    tls.emplace(std::move(context));
    return Status::ok();
  }

  ServerOptions options;
  AsyncHandler handler;
  std::optional<asio::ssl::context> tls;
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
  RETURN_IF_ERROR(impl_->loadTls());
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
  logger("http")->info("listening on {}://{}:{} threads={}", impl_->tls ? "https" : "http",
                       impl_->options.host, impl_->boundPort, threads);
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
