#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "core/logging.h"

namespace bwfloor::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

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

// One connection: read a request, hand it to the handler, write its answer, repeat while the
// client keeps the connection alive. All socket work runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, const AsyncHandler& handler, const ServerOptions& options)
      : stream_(std::move(socket)), handler_(handler), options_(options) {
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
    parser_->body_limit(options_.maxBodyBytes);
    stream_.expires_after(std::chrono::seconds(options_.idleTimeoutSeconds));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == bhttp::error::body_limit) {
      Response tooLarge{413, {}, "request body too large\n"};
      keepAlive_ = false;
      return write(std::move(tooLarge));
    }
    if (ec) {
      logger("http")->debug("peer={} read error: {}", peer_, ec.message());
      return close();
    }
    auto raw = parser_->release();
    keepAlive_ = raw.keep_alive();
    version_ = raw.version();
    stream_.expires_never();  // the handler may take long (long-poll)
    Request req = toRequest(std::move(raw), peer_);
    auto self = shared_from_this();
    handler_(std::move(req), [self](Response resp) {
      asio::post(self->stream_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->write(std::move(resp)); });
    });
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
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const AsyncHandler& handler_;
  const ServerOptions& options_;
  std::string peer_;
  bool keepAlive_ = true;
  unsigned version_ = 11;
};

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions opts, AsyncHandler h)
      : options(std::move(opts)), handler(std::move(h)), acceptor(io) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        std::make_shared<Session>(std::move(sock), handler, options)->run();
      } else {
        logger("http")->warn("accept failed: {}", ec.message());
      }
      if (acceptor.is_open()) accept();
    });
  }

  ServerOptions options;
  AsyncHandler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
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
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

uint16_t HttpServer::port() const { return impl_->boundPort; }

}  // namespace bwfloor::http
