// NetlinkLinkSource on the real kernel, in a private network namespace (root): the dump (kind,
// MAC, flags, ethtool speed, Linux-bridge master) and link events arriving within a second of a
// device appearing, changing and disappearing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "dataplane/netlink/netlink_link_source.h"
#include "tests/integration/agent/rig.h"

namespace bwfloor::test {
namespace {

using dataplane::LinkEvent;
using dataplane::LinkInfo;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr milliseconds kWithinASecond{1000};

// Polls the source's fd until an event matches or the deadline passes; returns the match.
std::optional<LinkEvent> waitForEvent(dataplane::NetlinkLinkSource& source,
                                      const std::function<bool(const LinkEvent&)>& match,
                                      milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    auto events = source.readEvents();
    if (!events) {
      ADD_FAILURE() << events.error().toString();
      return std::nullopt;
    }
    for (const auto& e : *events) {
      if (match(e)) return e;
    }
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd fd{source.eventFd(), POLLIN, 0};
    poll(&fd, 1, static_cast<int>(left));
  }
}

const LinkInfo* find(const std::vector<LinkInfo>& links, const std::string& name) {
  auto it =
      std::find_if(links.begin(), links.end(), [&](const LinkInfo& l) { return l.name == name; });
  return it != links.end() ? &*it : nullptr;
}

TEST(NetlinkEventsTest, DevicesAppearingChangingAndDisappearingAreSeenWithinASecond) {
  ASSERT_EQ(geteuid(), 0U) << "integration tests need root (network namespaces)";
  NetnsGuard ns;
  ASSERT_TRUE(ns.ok());
  dataplane::NetlinkLinkSource source;
  ASSERT_TRUE(source.subscribe());
  ASSERT_GE(source.eventFd(), 0);

  auto start = SteadyClock::now();
  ASSERT_TRUE(ip({"link", "add", "bwf0", "address", "52:54:00:00:00:0a", "type", "veth", "peer",
                  "name", "bwf1"}));
  auto added = waitForEvent(
      source,
      [](const LinkEvent& e) {
        return e.type == LinkEvent::Type::kNewOrChanged && e.link.name == "bwf0";
      },
      kWithinASecond);
  ASSERT_TRUE(added) << "no RTM_NEWLINK for bwf0 within a second";
  EXPECT_LT(SteadyClock::now() - start, kWithinASecond);
  EXPECT_EQ(added->link.kind, "veth");
  EXPECT_EQ(added->link.mac, "52:54:00:00:00:0a");

  start = SteadyClock::now();
  ASSERT_TRUE(ip({"link", "set", "bwf0", "up"}));
  auto up = waitForEvent(
      source, [](const LinkEvent& e) { return e.link.name == "bwf0" && e.link.up; },
      kWithinASecond);
  ASSERT_TRUE(up) << "no event for bwf0 going up within a second";
  EXPECT_LT(SteadyClock::now() - start, kWithinASecond);

  // A Linux bridge and a port: the port's master is the bridge's ifindex.
  ASSERT_TRUE(ip({"link", "add", "bwf-br", "type", "bridge"}));
  ASSERT_TRUE(ip({"link", "set", "bwf1", "master", "bwf-br"}));
  auto links = source.listLinks();
  ASSERT_TRUE(links) << links.error().toString();
  const LinkInfo* bridge = find(*links, "bwf-br");
  const LinkInfo* port = find(*links, "bwf1");
  const LinkInfo* veth = find(*links, "bwf0");
  ASSERT_TRUE(bridge && port && veth);
  EXPECT_EQ(bridge->kind, "bridge");
  EXPECT_EQ(port->masterIfindex, bridge->ifindex);
  EXPECT_TRUE(veth->up);
  // veth reports 10 Gbit/s through ethtool, read in this namespace (not the host's sysfs).
  EXPECT_EQ(veth->speedMbps, 10000U);
  EXPECT_TRUE(find(*links, "lo") != nullptr);

  start = SteadyClock::now();
  ASSERT_TRUE(ip({"link", "del", "bwf0"}));
  auto removed = waitForEvent(
      source,
      [](const LinkEvent& e) {
        return e.type == LinkEvent::Type::kRemoved && e.link.name == "bwf0";
      },
      kWithinASecond);
  ASSERT_TRUE(removed) << "no RTM_DELLINK for bwf0 within a second";
  EXPECT_LT(SteadyClock::now() - start, kWithinASecond);
  links = source.listLinks();
  ASSERT_TRUE(links);
  EXPECT_EQ(find(*links, "bwf0"), nullptr);
  EXPECT_EQ(find(*links, "bwf1"), nullptr);  // the peer goes with it
}

TEST(NetlinkEventsTest, NoEventsBeforeSubscribing) {
  dataplane::NetlinkLinkSource source;
  EXPECT_EQ(source.eventFd(), -1);
  auto events = source.readEvents();
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

}  // namespace
}  // namespace bwfloor::test
