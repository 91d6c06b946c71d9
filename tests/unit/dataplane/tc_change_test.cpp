#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

#include "dataplane/netlink/tc_change_netlink.h"

namespace bwfloor::dataplane {
namespace {

// One netlink message: header, tcmsg, `extra` bytes of attributes (zeros), aligned.
void append(std::vector<uint8_t>& out, uint16_t type, int ifindex, uint32_t handle,
            size_t extra = 8) {
  nlmsghdr hdr{};
  hdr.nlmsg_type = type;
  hdr.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(sizeof(tcmsg) + extra));
  tcmsg tc{};
  tc.tcm_ifindex = ifindex;
  tc.tcm_handle = handle;
  const size_t at = out.size();
  out.resize(at + NLMSG_ALIGN(hdr.nlmsg_len));
  std::memcpy(out.data() + at, &hdr, sizeof(hdr));
  std::memcpy(out.data() + at + NLMSG_HDRLEN, &tc, sizeof(tc));
}

TEST(TcChangeTest, ParsesEveryTcMessageAndSkipsOthers) {
  std::vector<uint8_t> bytes;
  append(bytes, RTM_DELTCLASS, 4, 0x1000c);
  append(bytes, RTM_NEWLINK, 4, 0);  // not tc
  append(bytes, RTM_DELTFILTER, 5, 0x800);
  append(bytes, RTM_NEWQDISC, 6, 0x10000, 0);
  const auto changes = parseTcChanges(bytes.data(), bytes.size());
  ASSERT_EQ(changes.size(), 3U);
  EXPECT_EQ(changes[0], (TcChange{TcChange::Type::kClass, true, 4, 0x1000c}));
  EXPECT_EQ(changes[1], (TcChange{TcChange::Type::kFilter, true, 5, 0x800}));
  EXPECT_EQ(changes[2], (TcChange{TcChange::Type::kQdisc, false, 6, 0x10000}));
  EXPECT_EQ(describe(changes[0]), "deleted class 1:c on ifindex 4");
}

TEST(TcChangeTest, TruncatedOrLyingLengthsEndTheParse) {
  std::vector<uint8_t> bytes;
  append(bytes, RTM_DELTCLASS, 4, 1);
  append(bytes, RTM_DELTCLASS, 5, 2);
  // The second message cut short: only the first is read.
  EXPECT_EQ(parseTcChanges(bytes.data(), bytes.size() - 4).size(), 1U);
  // A length beyond the datagram, and one shorter than a header: nothing past them.
  auto lying = bytes;
  reinterpret_cast<nlmsghdr*>(lying.data())->nlmsg_len = 1 << 20;
  EXPECT_TRUE(parseTcChanges(lying.data(), lying.size()).empty());
  reinterpret_cast<nlmsghdr*>(lying.data())->nlmsg_len = 3;
  EXPECT_TRUE(parseTcChanges(lying.data(), lying.size()).empty());
  // A tc message too short for its tcmsg is skipped, the next one still read.
  std::vector<uint8_t> shortOne(NLMSG_HDRLEN);
  reinterpret_cast<nlmsghdr*>(shortOne.data())->nlmsg_len = NLMSG_HDRLEN;
  reinterpret_cast<nlmsghdr*>(shortOne.data())->nlmsg_type = RTM_DELTCLASS;
  append(shortOne, RTM_DELTFILTER, 9, 3);
  const auto changes = parseTcChanges(shortOne.data(), shortOne.size());
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].ifindex, 9);
  EXPECT_TRUE(parseTcChanges(nullptr, 0).empty());
}

}  // namespace
}  // namespace bwfloor::dataplane
