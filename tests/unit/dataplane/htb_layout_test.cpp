#include "dataplane/tc/htb_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace bwfloor::dataplane::tc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const MacAddress kMac{0xfa, 0x16, 0x3e, 0x12, 0x34, 0x56};

Uuid uuid(const char* text) { return Uuid::parse(text).value(); }

TEST(ParseMac, AcceptsColonSeparatedHexInAnyCase) {
  EXPECT_EQ(parseMac("fa:16:3e:12:34:56").value(), kMac);
  EXPECT_EQ(parseMac("FA:16:3E:12:34:56").value(), kMac);
  EXPECT_EQ(formatMac(kMac), "fa:16:3e:12:34:56");
}

TEST(ParseMac, RejectsAnythingElseAndNamesTheText) {
  for (const char* bad : {"", "fa:16:3e:12:34", "fa-16-3e-12-34-56", "fa:16:3e:12:34:5g",
                          "fa:16:3e:12:34:56:78", "fa163e123456"}) {
    Result<MacAddress> mac = parseMac(bad);
    ASSERT_FALSE(mac.has_value()) << bad;
    EXPECT_EQ(mac.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(mac.error().message(), HasSubstr(std::string("\"") + bad + "\""));
  }
}

TEST(MacKeys, SourceMacIsMatchedAtMinus8AndMinus4) {
  EXPECT_THAT(macKeys(kMac, MacField::kSource),
              ElementsAre(U32Key{0xfa163e12, 0xffffffff, -8}, U32Key{0x34560000, 0xffff0000, -4}));
}

TEST(MacKeys, DestinationMacIsMatchedAtMinus16AndMinus12) {
  EXPECT_THAT(
      macKeys(kMac, MacField::kDestination),
      ElementsAre(U32Key{0x0000fa16, 0x0000ffff, -16}, U32Key{0x3e123456, 0xffffffff, -12}));
}

TEST(MacKeys, RoundTripAndRejectOtherShapes) {
  for (MacField field : {MacField::kSource, MacField::kDestination}) {
    EXPECT_EQ(macFromKeys(macKeys(kMac, field), field), kMac);
  }
  EXPECT_EQ(macFromKeys(macKeys(kMac, MacField::kSource), MacField::kDestination), std::nullopt);
  EXPECT_EQ(macFromKeys({U32Key{0, 0, 0}}, MacField::kSource), std::nullopt);
}

TEST(MacHashSelector, PicksTheLastMacByte) {
  EXPECT_EQ(macHashSelector(MacField::kSource).offset, -4);
  EXPECT_EQ(macHashSelector(MacField::kSource).mask, 0x00ff0000u);  // byte 11 of the frame
  EXPECT_EQ(macHashSelector(MacField::kDestination).offset, -12);
  EXPECT_EQ(macHashSelector(MacField::kDestination).mask, 0x000000ffu);  // byte 5
  EXPECT_EQ(macBucket(kMac), 0x56u);
}

TEST(PortTag, RoundTripsTheUuidInMaskZeroKeys) {
  const Uuid id = uuid("7a1c2e4f-8d3b-4c5e-9f10-112233445566");
  std::vector<U32Key> keys = portTagKeys(id, -8);
  ASSERT_EQ(keys.size(), 5u);
  for (const U32Key& key : keys) {
    EXPECT_EQ(key.mask, 0u);  // never changes what matches
    EXPECT_EQ(key.offset, -8);
  }
  EXPECT_EQ(keys[0].value, kTagHeaderPort);
  EXPECT_EQ(keys[1].value, 0x7a1c2e4fu);
  EXPECT_EQ(portFromTag(keys), id);
  // After the MAC keys, as in a real filter.
  std::vector<U32Key> filterKeys = macKeys(kMac, MacField::kSource);
  filterKeys.insert(filterKeys.end(), keys.begin(), keys.end());
  EXPECT_EQ(portFromTag(filterKeys), id);
}

TEST(PortTag, AbsentOrDamagedTagIsNotAPort) {
  EXPECT_EQ(portFromTag(macKeys(kMac, MacField::kSource)), std::nullopt);
  std::vector<U32Key> keys = portTagKeys(uuid("7a1c2e4f-8d3b-4c5e-9f10-112233445566"), -8);
  keys[2].mask = 0xffffffff;
  EXPECT_EQ(portFromTag(keys), std::nullopt);
  keys.resize(3);
  EXPECT_EQ(portFromTag(keys), std::nullopt);
}

TEST(PortFilter, HandleIsBucketOfLastMacByteAndNodeOfTheMinor) {
  const Uuid id = uuid("7a1c2e4f-8d3b-4c5e-9f10-112233445566");
  U32Filter f = portFilter(id, kMac, MacField::kSource, 0x12);
  EXPECT_EQ(f.handle, makeU32Handle(kPortHtid, 0x56, 0x12));
  EXPECT_EQ(formatU32Handle(f.handle), "10:56:12");
  EXPECT_EQ(f.classId, makeHandle(1, 0x12));
  EXPECT_EQ(f.parent, makeHandle(1, 0));
  EXPECT_EQ(f.protocol, kEthPAll);
  EXPECT_EQ(f.keys.size(), 7u);
  EXPECT_EQ(portFromTag(f.keys), id);
  EXPECT_EQ(macFromKeys(f.keys, MacField::kSource), kMac);
}

TEST(RedirectFilter, MatchesEverythingAndRedirects) {
  U32Filter f = redirectFilter(42);
  EXPECT_EQ(f.parent, kIngressHandle);
  EXPECT_EQ(f.redirectIfindex, 42);
  EXPECT_TRUE(hasRedirectTag(f.keys));
  for (const U32Key& key : f.keys) EXPECT_EQ(key.mask, 0u);
}

TEST(HtbParameters, BurstIsOneMillisecondButAtLeast64KiB) {
  EXPECT_EQ(htbBurstBytes(Kbps(1000).toBytesPerSec()), 65536u);
  EXPECT_EQ(htbBurstBytes(Kbps(100000).toBytesPerSec()), 65536u);  // 12.5 kB in 1 ms
  EXPECT_EQ(htbBurstBytes(Kbps(10000000).toBytesPerSec()), 1250000u);
}

TEST(HtbParameters, QuantumIsRateOverTenClampedToKernelSaneRange) {
  EXPECT_EQ(htbQuantumBytes(Kbps(8).toBytesPerSec()), 1600u);
  EXPECT_EQ(htbQuantumBytes(Kbps(10000).toBytesPerSec()), 125000u);
  EXPECT_EQ(htbQuantumBytes(Kbps(60000).toBytesPerSec()), 200000u);
  EXPECT_EQ(htbQuantumBytes(Kbps(100000000).toBytesPerSec()), 200000u);
}

TEST(HtbParameters, ClassesOfTheTree) {
  HtbClass root = rootClass(Kbps(100000));
  EXPECT_EQ(formatHandle(root.handle), "1:1");
  EXPECT_EQ(formatHandle(root.parent), "root");
  EXPECT_EQ(root.rateBytesPerSec, 12500000u);
  EXPECT_EQ(root.ceilBytesPerSec, 12500000u);
  HtbClass def = defaultClass(Kbps(1000), Kbps(100000));
  EXPECT_EQ(formatHandle(def.handle), "1:2");
  EXPECT_EQ(formatHandle(def.parent), "1:1");
  EXPECT_EQ(def.rateBytesPerSec, 125000u);
  EXPECT_EQ(def.ceilBytesPerSec, 12500000u);
  // A ceiling below the rate would be refused by the kernel; it is raised to the rate.
  HtbClass port = htbClass(0x12, kRootClassMinor, Kbps(60000), Kbps(1000));
  EXPECT_EQ(port.ceilBytesPerSec, port.rateBytesPerSec);
  EXPECT_EQ(htbQdisc().htbDefaultMinor, kDefaultClassMinor);
}

TEST(HtbClassSameConfig, ToleratesBucketRoundingOnly) {
  HtbClass a = htbClass(0x12, kRootClassMinor, Kbps(60000), Kbps(100000));
  HtbClass b = a;
  b.burstBytes += 40;
  b.stats.bytes = 99;
  EXPECT_TRUE(a.sameConfig(b));
  b.burstBytes += 10000;
  EXPECT_FALSE(a.sameConfig(b));
  b = a;
  b.rateBytesPerSec += 125;
  EXPECT_FALSE(a.sameConfig(b));
}

TEST(IfbName, PrefixesShortNamesAndHashesLongOnes) {
  EXPECT_EQ(ifbNameFor("eth0"), "ifb-eth0");
  EXPECT_EQ(ifbNameFor("enp1s0f1np1"), "ifb-enp1s0f1np1");  // exactly 15
  const std::string a = ifbNameFor("enp129s0f1np1");
  const std::string b = ifbNameFor("enp129s0f0np0");
  EXPECT_EQ(a.size(), 15u);
  EXPECT_EQ(a.substr(0, 11), "ifb-enp129-");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, ifbNameFor("enp129s0f1np1"));
}

TEST(AllocatePortMinor, DeterministicInRangeAndSkipsTaken) {
  auto all = [](uint32_t) { return true; };
  std::optional<uint32_t> first = allocatePortMinor("port-a", all);
  ASSERT_TRUE(first);
  EXPECT_TRUE(isPortMinor(*first));
  EXPECT_EQ(allocatePortMinor("port-a", all), first);
  std::optional<uint32_t> next =
      allocatePortMinor("port-a", [&](uint32_t m) { return m != *first; });
  ASSERT_TRUE(next);
  EXPECT_NE(*next, *first);
  EXPECT_EQ(allocatePortMinor("port-a", [](uint32_t) { return false; }), std::nullopt);
}

TEST(AllocatePortMinor, ManyPortsGetDistinctMinors) {
  std::set<uint32_t> taken;
  for (int i = 0; i < 2000; ++i) {
    std::optional<uint32_t> m = allocatePortMinor(
        "port-" + std::to_string(i), [&](uint32_t minor) { return taken.count(minor) == 0; });
    ASSERT_TRUE(m);
    taken.insert(*m);
  }
  EXPECT_EQ(taken.size(), 2000u);
}

TEST(FormatHandle, PrintsLikeTc) {
  EXPECT_EQ(formatHandle(makeHandle(1, 0x12)), "1:12");
  EXPECT_EQ(formatHandle(makeHandle(1, 0)), "1:");
  EXPECT_EQ(formatHandle(kIngressHandle), "ffff:");
  EXPECT_EQ(formatHandle(kParentRoot), "root");
  EXPECT_EQ(formatU32Handle(makeU32Handle(0x10, 0, 0)), "10:");
  EXPECT_EQ(formatU32Handle(kLinkFilterHandle), "800::800");
}

// What packet_snd charges per frame: the kmalloc cache the frame falls in plus the sk_buff.
TEST(LeafSizing, FrameTruesizeFollowsTheMtusKmallocCache) {
  EXPECT_EQ(frameTruesize(1500), 2304u);  // 1514 + reserve + shared info -> 2048, + 256
  EXPECT_EQ(frameTruesize(0), 2304u);     // unknown: 1500
  EXPECT_EQ(frameTruesize(9000), 16640u);
  EXPECT_EQ(framesInBuffer(212992, 1500), 92u);  // the kernel's default wmem
  EXPECT_EQ(framesInBuffer(212992, 9000), 12u);
  EXPECT_EQ(framesInBuffer(0, 1500), 0u);
}

TEST(LeafSizing, PortLeavesFollowTheirShareOfTheTotalAboveAFloor) {
  const Kbps total(100000);
  EXPECT_EQ(defaultLeafPackets(92), 11u);
  EXPECT_EQ(portLeafPackets(92, Kbps(60000), total), 27u);
  EXPECT_EQ(portLeafPackets(92, Kbps(100000), total), 46u);
  EXPECT_EQ(portLeafPackets(92, Kbps(200000), total), 46u);  // never above half the buffer
  EXPECT_EQ(portLeafPackets(92, Kbps(1000), total), kMinLeafPackets);
  EXPECT_EQ(portLeafPackets(92, Kbps(1000), Kbps(0)), kMinLeafPackets);
  EXPECT_EQ(defaultLeafPackets(12), kMinLeafPackets);
  EXPECT_EQ(kMinLeafPackets, 3u);
  const Qdisc leaf = leafQdisc(0x123, 27);
  EXPECT_EQ(leaf.handle, makeHandle(0x1123, 0));
  EXPECT_EQ(leaf.parent, makeHandle(kHtbMajor, 0x123));
  EXPECT_EQ(leaf.kind, "pfifo");
  EXPECT_EQ(leaf.fifoLimitPackets, 27u);
}

// The case the sizing is made for: 20 guaranteed ports of 1 to 20 Mbit/s, 90 of 100 Mbit/s in
// all (tests/integration/fidelity), every class backlogged at once: the leaves together must
// still fit in ovs-vswitchd's send buffer, or its sends fail for every class alike.
TEST(LeafSizing, TwentyBackloggedPortsStillFitInTheSendBuffer) {
  const uint32_t frames = framesInBuffer(212992, 1500);
  uint32_t sum = defaultLeafPackets(frames);
  for (uint64_t mbps : {1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 8, 20}) {
    sum += portLeafPackets(frames, Kbps(mbps * 1000), Kbps(100000));
  }
  EXPECT_LE(sum, frames);
  EXPECT_EQ(sum, 77u);
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
