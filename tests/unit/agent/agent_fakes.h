#pragma once
// Fakes for the agent's seams (STYLE.md §3): a simulated clock, a stateful link source that
// emits events, an OVSDB bridge source, the real Placement API in process (PlacementApi::handle
// over a MemoryStore, no HTTP) with failure injection, and a bwfloor-server that records
// heartbeats.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/clock.h"
#include "agent/report/rest_transport.h"
#include "dataplane/api/link_source.h"
#include "dataplane/ovs/ovs_bridge.h"
#include "placement/api/placement_api.h"
#include "placement/model/placement_model.h"

namespace bwfloor::agent::testing {

using nlohmann::json;

class FakeClock : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_{std::chrono::hours(1000)};
};

class FakeLinkSource : public dataplane::LinkSource {
 public:
  // Adds or replaces the link of that name (a new one gets the next ifindex) and, when
  // subscribed, queues an RTM_NEWLINK-like event.
  void setLink(dataplane::LinkInfo link);
  // Shorthand: an up link with a speed (unset = unknown).
  void setLink(const std::string& name, std::optional<uint64_t> speedMbps,
               const std::string& kind = "");
  void removeLink(const std::string& name);
  void failListForTest(bool fail) { failList_ = fail; }
  void refuseSubscribeForTest() { refuseSubscribe_ = true; }

  Result<std::vector<dataplane::LinkInfo>> listLinks() override;
  Status subscribe() override;
  Result<std::vector<dataplane::LinkEvent>> readEvents() override;

  int listCalls() const { return listCalls_; }
  bool subscribed() const { return subscribed_; }

 private:
  std::vector<dataplane::LinkInfo> links_;
  std::vector<dataplane::LinkEvent> pending_;
  int nextIfindex_ = 2;
  bool subscribed_ = false;
  bool refuseSubscribe_ = false;
  bool failList_ = false;
  int listCalls_ = 0;
};

class FakeOvsBridgeSource : public dataplane::OvsBridgeSource {
 public:
  // A bridge with its local port and the given uplinks (system interfaces).
  void addBridge(const std::string& name, const std::vector<std::string>& uplinks = {});
  void removeBridge(const std::string& name);
  void setDown(bool down) { down_ = down; }
  Result<std::vector<dataplane::OvsBridge>> readBridges() override;

 private:
  std::vector<dataplane::OvsBridge> bridges_;
  bool down_ = false;
};

// Placement's real logic in process. send() is what the agent sees (and what failures affect);
// admin() bypasses failures, for test set-up and assertions.
class InProcessPlacement : public RestTransport {
 public:
  InProcessPlacement();

  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body) override;

  // Placement down: every send() fails as a refused connection would (kUnavailable).
  void setDown(bool down) { down_ = down; }
  // The next `count` sends answer `status` (e.g. 503) without reaching the API.
  void failNextForTest(int count, int status) {
    failCount_ = count;
    failStatus_ = status;
  }
  // Runs before each send() reaches the API (after failure injection), e.g. to make a
  // concurrent change that bumps a generation.
  std::function<void(const std::string& method, const std::string& path)> beforeCall;

  // Direct API access at microversion 1.39, never failing.
  http::Response admin(const std::string& method, const std::string& path,
                       const json& body = nullptr);
  json adminJson(const std::string& method, const std::string& path, const json& body = nullptr);

  // "METHOD path" of every send() that reached the API, in order.
  const std::vector<std::string>& calls() const { return calls_; }
  void clearCalls() { calls_.clear(); }
  // Writes (non-GET) among calls().
  std::vector<std::string> writes() const;
  // The names of the providers created through send() (POST /resource_providers), in order.
  const std::vector<std::string>& createdNames() const { return createdNames_; }

 private:
  http::Response handle(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& version);

  placement::PlacementModel model_;
  placement::PlacementApi api_;
  bool down_ = false;
  int failCount_ = 0;
  int failStatus_ = 503;
  std::vector<std::string> calls_;
  std::vector<std::string> createdNames_;
};

// bwfloor-server's /v1/agents: records every POST body, answers `status`.
class FakeServer : public RestTransport {
 public:
  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body) override;
  int status = 201;
  bool down = false;
  std::vector<json> heartbeats;
  std::vector<std::string> paths;
};

// Forwards to a transport the test owns (the agent's factories return owning pointers).
class ForwardingTransport : public RestTransport {
 public:
  explicit ForwardingTransport(RestTransport& target) : target_(target) {}
  Result<http::Response> send(const std::string& method, const std::string& path,
                              const std::string& body) override {
    return target_.send(method, path, body);
  }

 private:
  RestTransport& target_;
};

class ForwardingOvsSource : public dataplane::OvsBridgeSource {
 public:
  explicit ForwardingOvsSource(dataplane::OvsBridgeSource& target) : target_(target) {}
  Result<std::vector<dataplane::OvsBridge>> readBridges() override { return target_.readBridges(); }

 private:
  dataplane::OvsBridgeSource& target_;
};

}  // namespace bwfloor::agent::testing
