#include "tests/unit/placement/api_test_fixture.h"

#include <cstdlib>

#include "core/logging.h"
#include "core/uuid.h"
#include "placement/store/sqlite_store.h"

namespace bwfloor::placement::testing {

std::string Reply::header(std::string_view name) const {
  const std::string* v = headers.find(name);
  return v ? *v : std::string("<absent>");
}

const json& Reply::error() const {
  static const json kNull;
  if (!body.is_object() || !body.contains("errors") || !body["errors"].is_array() ||
      body["errors"].empty()) {
    return kNull;
  }
  return body["errors"][0];
}

std::string Reply::errorCode() const {
  const json& e = error();
  return e.is_object() && e.contains("code") ? e["code"].get<std::string>() : "<no code>";
}

std::string Reply::errorDetail() const {
  const json& e = error();
  if (!e.is_object() || !e.contains("detail")) return raw;
  // The message inside webob's frame ("<explanation>\n\n <message>  "), which
  // ApiErrorFormatTest checks whole.
  std::string detail = e["detail"].get<std::string>();
  const size_t frame = detail.find("\n\n ");
  if (frame != std::string::npos) detail.erase(0, frame + 3);
  while (!detail.empty() && detail.back() == ' ') detail.pop_back();
  return detail;
}

void PlacementApiTest::startServer(ApiOptions options) {
  initLogging(LogOptions{spdlog::level::warn});  // store/server chatter hides test failures
  if (server_) server_->stop();
  client_.reset();
  server_.reset();
  api_.reset();
  model_.reset();
  store_.reset();
  if (dir_.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bwfloor-api-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  SqliteOptions sqlite;
  sqlite.synchronousNormal = true;  // tests need no power-loss durability
  auto store = SqliteStore::open((dir_ / "placement.db").string(), sqlite);
  ASSERT_TRUE(store) << store.error().toString();
  store_ = std::shared_ptr<Store>(std::move(*store));
  model_ = std::make_unique<PlacementModel>(store_);
  ASSERT_TRUE(model_->load());
  api_ = std::make_unique<PlacementApi>(*model_, std::move(options));
  http::ServerOptions httpOptions;
  httpOptions.host = "127.0.0.1";
  httpOptions.port = 0;
  httpOptions.threads = 2;
  PlacementApi* api = api_.get();
  // Wired as placement/server_main.cpp does.
  server_ = std::make_unique<http::HttpServer>(httpOptions, [api](const http::Request& req) {
    if (api->owns(req.path)) return api->handle(req);
    http::Response resp;
    resp.status = 404;
    return resp;
  });
  auto st = server_->start();
  ASSERT_TRUE(st) << st.error().message();
  client_ = std::make_unique<http::HttpClient>(http::Url{false, "127.0.0.1", server_->port(), ""});
}

void PlacementApiTest::TearDown() {
  if (server_) server_->stop();
  client_.reset();
  server_.reset();
  api_.reset();
  model_.reset();
  store_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Reply PlacementApiTest::sendRaw(const std::string& method, const std::string& fullPath,
                                const std::string& version, const Extra& extra) {
  http::Headers headers = extra.headers;
  if (!extra.token.empty()) headers.add("X-Auth-Token", extra.token);
  if (!extra.accept.empty()) headers.add("Accept", extra.accept);
  if (!version.empty()) headers.add("OpenStack-API-Version", "placement " + version);
  if (extra.contentType) headers.add("Content-Type", *extra.contentType);
  Reply reply;
  auto resp = client_->send(method, fullPath, headers);
  if (!resp) {
    ADD_FAILURE() << method << " " << fullPath << ": " << resp.error().message();
    return reply;
  }
  reply.status = resp->status;
  reply.headers = resp->headers;
  reply.raw = resp->body;
  reply.body = json::parse(reply.raw, nullptr, false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

Reply PlacementApiTest::send(const std::string& method, const std::string& path,
                             const std::optional<json>& body, const std::string& version,
                             const Extra& extra) {
  http::Headers headers = extra.headers;
  if (!extra.token.empty()) headers.add("X-Auth-Token", extra.token);
  if (!extra.accept.empty()) headers.add("Accept", extra.accept);
  if (!version.empty()) headers.add("OpenStack-API-Version", "placement " + version);
  std::string text;
  if (body) {
    text = body->is_string() ? body->get<std::string>() : body->dump();
    std::string type = extra.contentType.value_or("application/json");
    if (!type.empty()) headers.add("Content-Type", type);
  } else if (extra.contentType) {
    headers.add("Content-Type", *extra.contentType);
  }
  Reply reply;
  auto resp = client_->send(method, extra.mount + path, headers, text);
  if (!resp) {
    ADD_FAILURE() << method << " " << path << ": " << resp.error().message();
    return reply;
  }
  reply.status = resp->status;
  reply.headers = resp->headers;
  reply.raw = resp->body;
  reply.body = json::parse(reply.raw, nullptr, false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

std::string PlacementApiTest::newUuid() { return uuid4().toString(); }

std::string PlacementApiTest::createProvider(const std::string& name, const std::string& parent) {
  json body = {{"name", name}};
  if (!parent.empty()) body["parent_provider_uuid"] = parent;
  Reply r = send("POST", "/resource_providers", body);
  if (r.status != 200) {
    ADD_FAILURE() << "create provider " << name << ": " << r.status << " " << r.raw;
    return "";
  }
  return r.body["uuid"].get<std::string>();
}

int64_t PlacementApiTest::generation(const std::string& rp) {
  Reply r = send("GET", "/resource_providers/" + rp);
  if (r.status != 200) {
    ADD_FAILURE() << "GET provider " << rp << ": " << r.status << " " << r.raw;
    return -1;
  }
  return r.body["generation"].get<int64_t>();
}

void PlacementApiTest::setInventories(const std::string& rp, const json& inventories) {
  json body = {{"resource_provider_generation", generation(rp)}, {"inventories", inventories}};
  Reply r = send("PUT", "/resource_providers/" + rp + "/inventories", body);
  if (r.status != 200) ADD_FAILURE() << "PUT inventories: " << r.status << " " << r.raw;
}

void PlacementApiTest::setInventory(const std::string& rp, const std::string& rc, int64_t total,
                                    const json& fields) {
  Reply current = send("GET", "/resource_providers/" + rp + "/inventories");
  json invs = current.body["inventories"];
  json inv = fields;
  inv["total"] = total;
  invs[rc] = inv;
  setInventories(rp, invs);
}

json PlacementApiTest::usages(const std::string& rp) {
  Reply r = send("GET", "/resource_providers/" + rp + "/usages");
  if (r.status != 200) ADD_FAILURE() << "GET usages: " << r.status << " " << r.raw;
  return r.body["usages"];
}

Reply PlacementApiTest::allocate(const std::string& consumer, const json& allocations,
                                 const std::string& project, const std::string& user,
                                 const std::string& type) {
  json allocs = json::object();
  for (const auto& [rp, resources] : allocations.items()) {
    allocs[rp] = {{"resources", resources}};
  }
  json body = {{"allocations", allocs},
               {"project_id", project},
               {"user_id", user},
               {"consumer_generation", nullptr},
               {"consumer_type", type}};
  return send("PUT", "/allocations/" + consumer, body);
}

}  // namespace bwfloor::placement::testing
