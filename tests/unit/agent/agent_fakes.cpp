#include "tests/unit/agent/agent_fakes.h"

#include <algorithm>

#include "placement/store/store.h"

namespace bwfloor::agent::testing {

void FakeLinkSource::setLink(dataplane::LinkInfo link) {
  auto it = std::find_if(links_.begin(), links_.end(),
                         [&](const dataplane::LinkInfo& l) { return l.name == link.name; });
  if (it != links_.end()) {
    link.ifindex = it->ifindex;
    *it = link;
  } else {
    if (link.ifindex == 0) link.ifindex = nextIfindex_++;
    links_.push_back(link);
  }
  if (subscribed_) pending_.push_back({dataplane::LinkEvent::Type::kNewOrChanged, link});
}

void FakeLinkSource::setLink(const std::string& name, std::optional<uint64_t> speedMbps,
                             const std::string& kind) {
  dataplane::LinkInfo link;
  link.name = name;
  link.kind = kind;
  link.up = true;
  link.lowerUp = true;
  link.speedMbps = speedMbps;
  setLink(std::move(link));
}

void FakeLinkSource::removeLink(const std::string& name) {
  auto it = std::find_if(links_.begin(), links_.end(),
                         [&](const dataplane::LinkInfo& l) { return l.name == name; });
  if (it == links_.end()) return;
  if (subscribed_) pending_.push_back({dataplane::LinkEvent::Type::kRemoved, *it});
  links_.erase(it);
}

Result<std::vector<dataplane::LinkInfo>> FakeLinkSource::listLinks() {
  ++listCalls_;
  if (failList_) return makeError(ErrorCode::kKernel, "fake: dump failed");
  return links_;
}

Status FakeLinkSource::subscribe() {
  if (refuseSubscribe_) return makeError(ErrorCode::kPermissionDenied, "fake: no events");
  subscribed_ = true;
  return {};
}

Result<std::vector<dataplane::LinkEvent>> FakeLinkSource::readEvents() {
  std::vector<dataplane::LinkEvent> out;
  out.swap(pending_);
  return out;
}

void FakeOvsBridgeSource::addBridge(const std::string& name,
                                    const std::vector<std::string>& uplinks) {
  dataplane::OvsBridge bridge;
  bridge.name = name;
  bridge.ports.push_back({name, {{name, "internal", "", std::nullopt}}});
  for (const auto& uplink : uplinks) bridge.ports.push_back({uplink, {{uplink, "", "", 1}}});
  std::sort(bridge.ports.begin(), bridge.ports.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  removeBridge(name);
  bridges_.push_back(std::move(bridge));
  std::sort(bridges_.begin(), bridges_.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
}

void FakeOvsBridgeSource::removeBridge(const std::string& name) {
  bridges_.erase(std::remove_if(bridges_.begin(), bridges_.end(),
                                [&](const auto& b) { return b.name == name; }),
                 bridges_.end());
}

Result<std::vector<dataplane::OvsBridge>> FakeOvsBridgeSource::readBridges() {
  if (down_) return makeError(ErrorCode::kUnavailable, "fake: ovsdb-server not running");
  return bridges_;
}

InProcessPlacement::InProcessPlacement()
    : model_(std::make_shared<placement::MemoryStore>()), api_(model_, placement::ApiOptions{}) {
  auto st = model_.load();
  if (!st) abort();  // a MemoryStore always loads
}

http::Response InProcessPlacement::handle(const std::string& method, const std::string& path,
                                          const std::string& body, const std::string& version) {
  http::Request req;
  req.method = method;
  req.target = "/placement" + path;
  const size_t q = path.find('?');
  std::string rawPath = "/placement" + path.substr(0, q);
  http::percentDecode(rawPath, req.path);
  if (q != std::string::npos) req.query = path.substr(q + 1);
  req.headers.add("X-Auth-Token", "admin");
  req.headers.add("Accept", "application/json");
  req.headers.add("OpenStack-API-Version", "placement " + version);
  if (!body.empty()) req.headers.add("Content-Type", "application/json");
  req.body = body;
  req.peer = "127.0.0.1:1";
  return api_.handle(req);
}

Result<http::Response> InProcessPlacement::send(const std::string& method, const std::string& path,
                                                const std::string& body) {
  if (down_) return makeError(ErrorCode::kUnavailable, "connect 127.0.0.1:8778: refused", 111);
  if (failCount_ > 0) {
    --failCount_;
    http::Response resp;
    resp.status = failStatus_;
    resp.body = R"({"errors": [{"status": )" + std::to_string(failStatus_) +
                R"(, "title": "injected", "detail": "fake failure"}]})";
    return resp;
  }
  if (beforeCall) beforeCall(method, path);
  calls_.push_back(method + " " + path);
  if (method == "POST" && path == "/resource_providers") {
    const json doc = json::parse(body, nullptr, false);
    createdNames_.push_back(doc.is_object() ? doc.value("name", "?") : "?");
  }
  return handle(method, path, body, "1.37");
}

http::Response InProcessPlacement::admin(const std::string& method, const std::string& path,
                                         const json& body) {
  return handle(method, path, body.is_null() ? "" : body.dump(), "1.39");
}

json InProcessPlacement::adminJson(const std::string& method, const std::string& path,
                                   const json& body) {
  http::Response resp = admin(method, path, body);
  json doc = json::parse(resp.body, nullptr, false);
  return doc.is_discarded() ? json(nullptr) : doc;
}

std::vector<std::string> InProcessPlacement::writes() const {
  std::vector<std::string> out;
  std::copy_if(calls_.begin(), calls_.end(), std::back_inserter(out),
               [](const std::string& c) { return c.rfind("GET ", 0) != 0; });
  return out;
}

Result<http::Response> FakeServer::send(const std::string& method, const std::string& path,
                                        const std::string& body) {
  if (down) return makeError(ErrorCode::kUnavailable, "fake: server down");
  paths.push_back(method + " " + path);
  heartbeats.push_back(json::parse(body, nullptr, false));
  http::Response resp;
  resp.status = status;
  return resp;
}

}  // namespace bwfloor::agent::testing
