#include "http/client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <optional>
#include <stdexcept>

#include "core/logging.h"

namespace bwfloor::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string Url::origin() const {
  return std::string(https ? "https://" : "http://") + host + ":" + std::to_string(port);
}

Result<Url> parseUrl(std::string_view text) {
  Url url;
  std::string_view kScheme = "http://";
  if (text.substr(0, 8) == "https://") {
    kScheme = "https://";
    url.https = true;
    url.port = 443;
  } else if (text.substr(0, kScheme.size()) != kScheme) {
    return makeError(ErrorCode::kInvalidArgument,
                     "URL '" + std::string(text) + "' must start with http:// or https://");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view hostPort = rest.substr(0, slash);
  if (slash != std::string_view::npos) url.basePath = std::string(rest.substr(slash));
  while (!url.basePath.empty() && url.basePath.back() == '/') url.basePath.pop_back();
  size_t colon = hostPort.rfind(':');
  if (colon == std::string_view::npos) {
    url.host = std::string(hostPort);
  } else {
    url.host = std::string(hostPort.substr(0, colon));
    std::string_view port = hostPort.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "URL '" + std::string(text) + "' has a bad port '" + std::string(port) + "'");
    }
    url.port = static_cast<uint16_t>(value);
  }
  if (url.host.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "URL '" + std::string(text) + "' has no host");
  }
  return url;
}

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Runs one asynchronous operation to completion on `io`. Beast's stream timeouts
// (expires_after) apply to asynchronous operations only: a blocking read from a server that
// never answers would wait forever.
template <typename Start>
void await(asio::io_context& io, beast::error_code& ec, Start&& start) {
  start([&ec](beast::error_code e, auto&&...) { ec = e; });
  io.restart();
  io.run();
}

// One request on an open stream: write, read the answer.
template <typename Stream>
void exchange(asio::io_context& io, Stream& stream, bhttp::request<bhttp::string_body>& req,
              beast::flat_buffer& buffer, bhttp::response_parser<bhttp::string_body>& parser,
              beast::error_code& ec) {
  await(io, ec, [&](auto done) { bhttp::async_write(stream, req, done); });
  if (!ec) await(io, ec, [&](auto done) { bhttp::async_read(stream, buffer, parser, done); });
}

}  // namespace

struct HttpClient::Impl {
  asio::io_context io;
  std::optional<asio::ssl::context> tls;  // made at the first https connection
  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> secure;
  beast::flat_buffer buffer;

  bool open() const { return plain.has_value() || secure.has_value(); }
  void reset() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }
  beast::tcp_stream& tcp() { return plain ? *plain : beast::get_lowest_layer(*secure); }

  // The CA file is read once; a failure is the connection's error, every time.
  Status makeTlsContext(const ClientTls& options) {
    if (tls) return Status::ok();
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (options.caFile.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(options.caFile, ec);
    }
    if (ec) {
      return makeError(ErrorCode::kUnavailable,
                       "CA file " + (options.caFile.empty() ? "(system store)" : options.caFile) +
                           ": " + ec.message());
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    tls.emplace(std::move(ctx));
    return Status::ok();
  }

  // Connects (and verifies the server, for https); ec says why not.
  void connect(const Url& url, std::chrono::milliseconds timeout, beast::error_code& ec) {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return;
    if (!url.https) {
      plain.emplace(io);
    } else {
      secure.emplace(io, *tls);
      // SNI, and the name the certificate must carry (an IP address is matched as one).
      SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
      secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
    }
    tcp().expires_after(timeout);
    await(io, ec, [&](auto done) { tcp().async_connect(results, done); });
    if (!ec && secure) {
      await(io, ec,
            [&](auto done) { secure->async_handshake(asio::ssl::stream_base::client, done); });
    }
    if (ec) reset();
  }
};

HttpClient::HttpClient(Url base, std::chrono::milliseconds timeout, ClientTls tls)
    : base_(std::move(base)),
      timeout_(timeout),
      tls_(std::move(tls)),
      impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

Result<Response> HttpClient::send(const std::string& method, const std::string& path,
                                  const Headers& headers, const std::string& body) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(base_.basePath + path);
  req.version(11);
  req.set(bhttp::field::host, base_.host + ":" + std::to_string(base_.port));
  req.set(bhttp::field::user_agent, "bwfloor");
  for (const auto& [name, value] : headers.items()) req.set(name, value);
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();

  const std::string where = method + " " + base_.origin() + base_.basePath + path;
  if (base_.https) {
    if (Status st = impl_->makeTlsContext(tls_); !st) {
      return makeError(ErrorCode::kUnavailable, where + ": " + st.error().message());
    }
  }
  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->open();
    if (!reused) {
      impl_->connect(base_, timeout_, ec);
      if (ec) break;
    }
    impl_->tcp().expires_after(timeout_);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (impl_->plain) {
      exchange(impl_->io, *impl_->plain, req, impl_->buffer, parser, ec);
    } else {
      exchange(impl_->io, *impl_->secure, req, impl_->buffer, parser, ec);
    }
    if (ec) {
      impl_->reset();
      // The server closed an idle connection: reconnect once. Not after a timeout: the request
      // may have been served, and resending is the caller's decision.
      if (reused && ec != beast::error::timeout) continue;
      break;
    }
    auto res = parser.release();
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->reset();
    return out;
  }
  std::string why = ec.message();
  // OpenSSL's text for an untrusted or misnamed certificate is terse; say what to check.
  if (ec.category() == asio::error::get_ssl_category()) {
    why += " (the server's certificate must chain to the CA file (" +
           (tls_.caFile.empty() ? std::string("system store") : tls_.caFile) + ") and name " +
           base_.host + ")";
  }
  // Only an OS error's value is an errno.
  const bool system = ec.category() == boost::system::system_category() ||
                      ec.category() == boost::system::generic_category();
  return makeError(ErrorCode::kUnavailable, where + ": " + why, system ? ec.value() : 0);
}

Result<std::vector<Url>> parseUrlList(std::string_view text) {
  std::vector<Url> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "endpoint list '" + std::string(text) + "' has an empty item");
    }
    ASSIGN_OR_RETURN(Url url, parseUrl(item));
    out.push_back(std::move(url));
    start = comma + 1;
  }
  return out;
}

FailoverClient::FailoverClient(std::vector<Url> endpoints, std::chrono::milliseconds timeout,
                               ClientTls tls) {
  for (auto& url : endpoints) {
    clients_.push_back(std::make_unique<HttpClient>(std::move(url), timeout, tls));
  }
  if (clients_.empty()) throw std::invalid_argument("FailoverClient: no endpoint");
}

void FailoverClient::setTimeout(std::chrono::milliseconds timeout) {
  for (auto& c : clients_) c->setTimeout(timeout);
}

Result<Response> FailoverClient::send(const std::string& method, const std::string& path,
                                      const Headers& headers, const std::string& body) {
  std::string failures;
  std::optional<Response> unavailable;  // a 503: this endpoint cannot serve now (a replica behind)
  for (size_t tried = 0; tried < clients_.size(); ++tried) {
    const size_t which = (current_ + tried) % clients_.size();
    auto resp = clients_[which]->send(method, path, headers, body);
    const std::string url = clients_[which]->base().origin() + clients_[which]->base().basePath;
    if (resp && resp->status == 503 && clients_.size() > 1) {
      // A 503 changed nothing: the next endpoint may answer.
      failures += (failures.empty() ? "" : "; ") + url + " answered 503";
      unavailable = std::move(*resp);
      continue;
    }
    if (resp || resp.error().code() != ErrorCode::kUnavailable) {
      if (which != current_) {
        logger("http")->warn("{} {}: using {} ({})", method, path, url,
                             failures.empty() ? "first endpoint again" : failures);
      }
      current_ = which;
      return resp;
    }
    failures += (failures.empty() ? "" : "; ") + resp.error().message();
  }
  if (unavailable) return *unavailable;
  return makeError(ErrorCode::kUnavailable,
                   clients_.size() == 1 ? failures : "no endpoint answered: " + failures);
}

}  // namespace bwfloor::http
