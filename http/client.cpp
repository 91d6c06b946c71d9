#include "http/client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>

namespace bwfloor::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

Result<Url> parseUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return makeError(ErrorCode::kInvalidArgument,
                     "URL '" + std::string(text) + "' must start with http://");
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view hostPort = rest.substr(0, slash);
  Url url;
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

struct HttpClient::Impl {
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(Url base, std::chrono::milliseconds timeout)
    : base_(std::move(base)), timeout_(timeout), impl_(std::make_unique<Impl>()) {}

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

  beast::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (!reused) {
      tcp::resolver resolver(impl_->io);
      auto results = resolver.resolve(base_.host, std::to_string(base_.port), ec);
      if (ec) break;
      impl_->stream.emplace(impl_->io);
      impl_->stream->expires_after(timeout_);
      impl_->stream->connect(results, ec);
      if (ec) {
        impl_->stream.reset();
        break;
      }
    }
    auto& stream = *impl_->stream;
    stream.expires_after(timeout_);
    bhttp::write(stream, req, ec);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256 * 1024 * 1024);
    if (!ec) bhttp::read(stream, impl_->buffer, parser, ec);
    if (ec) {
      impl_->stream.reset();
      impl_->buffer.clear();
      if (reused) continue;  // the server closed an idle connection: reconnect once
      break;
    }
    auto res = parser.release();
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  return makeError(ErrorCode::kUnavailable,
                   method + " http://" + base_.host + ":" + std::to_string(base_.port) +
                       base_.basePath + path + ": " + ec.message(),
                   ec.value());
}

}  // namespace bwfloor::http
