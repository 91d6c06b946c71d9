// The VF netlink messages byte for byte (no socket, no root): the requests MnlVfApi sends are
// compared with hand-written bytes, and the parser reads hand-built kernel answers.
#include "dataplane/sriov/vf_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace bwfloor::dataplane::sriov {
namespace {

// The expectations below spell integers in little-endian byte order, as netlink carries them on
// this (x86-64) host: netlink uses host order.
static_assert(std::endian::native == std::endian::little);

// "44 00 00 00 13 00 ...", so that a failure shows where the bytes differ.
std::string hex(const std::vector<uint8_t>& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", bytes[i]);
    out += (i == 0 ? "" : i % 16 == 0 ? "\n" : " ") + std::string(buf);
  }
  return out;
}

TEST(VfMessage, SetVfRateRequestBytes) {
  const std::vector<uint8_t> expected = {
      // nlmsghdr: len 68, type RTM_SETLINK (19), flags NLM_F_REQUEST | NLM_F_ACK, seq 7, pid 0
      0x44, 0x00, 0x00, 0x00, 0x13, 0x00, 0x05, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00,
      // ifinfomsg: family AF_UNSPEC, type 0, index 0 (the name says which), flags 0, change 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00,
      // IFLA_IFNAME (3), len 9: "eth0\0", padded to 12
      0x09, 0x00, 0x03, 0x00, 'e', 't', 'h', '0', 0x00, 0x00, 0x00, 0x00,
      // IFLA_VFINFO_LIST (22) | NLA_F_NESTED (0x8000), len 24. The kernel masks the flag off
      // (nla_type) and accepts nests with or without it; libmnl sets it, as strict parsing wants.
      0x18, 0x00, 0x16, 0x80,
      //   IFLA_VF_INFO (1) | NLA_F_NESTED, len 20
      0x14, 0x00, 0x01, 0x80,
      //     IFLA_VF_RATE (6), len 16: struct ifla_vf_rate { vf 3, min_tx_rate 100, max 1000 }
      0x10, 0x00, 0x06, 0x00, 0x03, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00,
      0x00};
  EXPECT_EQ(hex(buildSetVfRateRequest("eth0", 7, 3, 100, 1000)), hex(expected));
}

TEST(VfMessage, GetVfsRequestBytes) {
  const std::vector<uint8_t> expected = {
      // nlmsghdr: len 52, type RTM_GETLINK (18), flags NLM_F_REQUEST | NLM_F_ACK, seq 0x01020304
      0x34, 0x00, 0x00, 0x00, 0x12, 0x00, 0x05, 0x00, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, 0x00,
      0x00,
      // ifinfomsg: all zero
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00,
      // IFLA_IFNAME (3), len 9: "ens1\0", padded to 12
      0x09, 0x00, 0x03, 0x00, 'e', 'n', 's', '1', 0x00, 0x00, 0x00, 0x00,
      // IFLA_EXT_MASK (29), len 8: RTEXT_FILTER_VF (1)
      0x08, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(hex(buildGetVfsRequest("ens1", 0x01020304, /*withStats=*/true)), hex(expected));

  std::vector<uint8_t> noStats = expected;
  noStats[48] = 0x09;  // RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS (8)
  EXPECT_EQ(hex(buildGetVfsRequest("ens1", 0x01020304, /*withStats=*/false)), hex(noStats));
}

TEST(VfMessage, NameOfFifteenCharactersFitsAndIsPadded) {
  std::vector<uint8_t> msg = buildSetVfRateRequest("abcdefghijklmno", 1, 0, 0, 0);
  ASSERT_EQ(msg.size(), 76u);  // 16 + 16 + (4 + 16) + 24
  EXPECT_EQ(msg[32], 20);      // IFLA_IFNAME len: 4 + 15 + NUL
  EXPECT_EQ(std::memcmp(&msg[36], "abcdefghijklmno", 16), 0);
}

// A kernel answer, built by hand: attributes appended with their lengths and padding.
class Answer {
 public:
  explicit Answer(uint16_t type) {
    put32(0);  // length, patched by bytes()
    put16(type);
    put16(0);
    put32(1);
    put32(0);
    buf_.resize(buf_.size() + sizeof(ifinfomsg), 0);
  }
  size_t begin(uint16_t type) {
    const size_t at = buf_.size();
    put16(0);
    put16(type);
    return at;
  }
  void end(size_t at) {
    const auto len = static_cast<uint16_t>(buf_.size() - at);
    std::memcpy(&buf_[at], &len, sizeof(len));
    while (buf_.size() % 4 != 0) buf_.push_back(0);
  }
  template <typename T>
  void attr(uint16_t type, const T& value) {
    const size_t at = begin(type);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&value);
    buf_.insert(buf_.end(), bytes, bytes + sizeof(T));
    end(at);
  }
  const nlmsghdr* msg() {
    const auto len = static_cast<uint32_t>(buf_.size());
    std::memcpy(buf_.data(), &len, sizeof(len));
    return reinterpret_cast<const nlmsghdr*>(buf_.data());
  }

 private:
  void put16(uint16_t v) {
    buf_.push_back(static_cast<uint8_t>(v));
    buf_.push_back(static_cast<uint8_t>(v >> 8));
  }
  void put32(uint32_t v) {
    put16(static_cast<uint16_t>(v));
    put16(static_cast<uint16_t>(v >> 16));
  }
  std::vector<uint8_t> buf_;  // operator new's alignment suits nlmsghdr
};

void addVf(Answer& a, uint32_t vf, std::array<uint8_t, 6> mac, uint32_t min, uint32_t max,
           bool withStats) {
  const size_t info = a.begin(IFLA_VF_INFO);
  ifla_vf_mac vfMac{};
  vfMac.vf = vf;
  std::memcpy(vfMac.mac, mac.data(), mac.size());
  a.attr(IFLA_VF_MAC, vfMac);
  a.attr(IFLA_VF_TX_RATE, ifla_vf_tx_rate{vf, max});
  a.attr(IFLA_VF_RATE, ifla_vf_rate{vf, min, max});
  if (withStats) {
    const size_t stats = a.begin(IFLA_VF_STATS);
    a.attr<uint64_t>(IFLA_VF_STATS_RX_PACKETS, 1);
    a.attr<uint64_t>(IFLA_VF_STATS_TX_PACKETS, 2);
    a.attr<uint64_t>(IFLA_VF_STATS_RX_BYTES, 300);
    a.attr<uint64_t>(IFLA_VF_STATS_TX_BYTES, 400);
    a.attr<uint64_t>(IFLA_VF_STATS_RX_DROPPED, 5);
    a.attr<uint64_t>(IFLA_VF_STATS_TX_DROPPED, 6);
    a.end(stats);
  }
  a.end(info);
}

TEST(VfMessage, ParsesTheVfListOfAnAnswer) {
  Answer a(RTM_NEWLINK);
  a.attr(IFLA_MTU, uint32_t{1500});
  a.attr(IFLA_NUM_VF, uint32_t{2});
  const size_t list = a.begin(IFLA_VFINFO_LIST);
  addVf(a, 0, {0xfa, 0x16, 0x3e, 0, 0, 0x0a}, 100, 1000, true);
  addVf(a, 1, {0, 0, 0, 0, 0, 0}, 0, 0, false);
  a.end(list);
  a.attr(IFLA_TXQLEN, uint32_t{1000});

  Result<LinkVfs> parsed = parseVfs(a.msg());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->numVfs, 2u);
  EXPECT_FALSE(parsed->truncated());
  const std::vector<VfState>& vfs = parsed->vfs;
  ASSERT_EQ(vfs.size(), 2u);
  EXPECT_EQ(vfs[0], (VfState{0, "fa:16:3e:00:00:0a", 100, 1000, VfStats{1, 2, 300, 400, 5, 6}}));
  EXPECT_EQ(vfs[1], (VfState{1, "", 0, 0, std::nullopt}));
}

TEST(VfMessage, AListShorterThanIflaNumVfIsTruncated) {
  Answer a(RTM_NEWLINK);
  a.attr(IFLA_NUM_VF, uint32_t{256});
  const size_t list = a.begin(IFLA_VFINFO_LIST);
  addVf(a, 0, {2, 0, 0, 0, 0, 1}, 0, 0, true);
  a.end(list);
  Result<LinkVfs> parsed = parseVfs(a.msg());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->truncated());

  Answer noList(RTM_NEWLINK);  // a driver without ndo_get_vf_config: no list, nothing cut
  noList.attr(IFLA_NUM_VF, uint32_t{4});
  parsed = parseVfs(noList.msg());
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->truncated());
  EXPECT_TRUE(parsed->vfs.empty());
}

TEST(VfMessage, OnlyTheLegacyTxRateGivesTheMax) {
  Answer a(RTM_NEWLINK);
  const size_t list = a.begin(IFLA_VFINFO_LIST);
  const size_t info = a.begin(IFLA_VF_INFO);
  ifla_vf_mac vfMac{};
  vfMac.vf = 5;
  a.attr(IFLA_VF_MAC, vfMac);
  a.attr(IFLA_VF_TX_RATE, ifla_vf_tx_rate{5, 300});
  a.end(info);
  a.end(list);
  Result<LinkVfs> parsed = parseVfs(a.msg());
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->vfs.size(), 1u);
  EXPECT_EQ(parsed->vfs[0].index, 5u);
  EXPECT_EQ(parsed->vfs[0].maxTxRateMbps, 300u);
  EXPECT_EQ(parsed->vfs[0].minTxRateMbps, 0u);
}

TEST(VfMessage, NoVfListMeansNoVfs) {
  Answer a(RTM_NEWLINK);
  a.attr(IFLA_MTU, uint32_t{1500});
  Result<LinkVfs> parsed = parseVfs(a.msg());
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->vfs.empty());
  EXPECT_FALSE(parsed->listed);
}

TEST(VfMessage, MalformedAnswersAreErrors) {
  Answer noMac(RTM_NEWLINK);
  const size_t list = noMac.begin(IFLA_VFINFO_LIST);
  const size_t info = noMac.begin(IFLA_VF_INFO);
  noMac.attr(IFLA_VF_RATE, ifla_vf_rate{0, 1, 2});
  noMac.end(info);
  noMac.end(list);
  EXPECT_EQ(parseVfs(noMac.msg()).error().code(), ErrorCode::kInternal);

  Answer wrongType(RTM_DELLINK);
  EXPECT_EQ(parseVfs(wrongType.msg()).error().code(), ErrorCode::kInternal);
}

TEST(VfMessage, ParsesAcksErrorsAndExtendedAckText) {
  struct {
    nlmsghdr hdr;
    nlmsgerr err;
    uint16_t attrLen;
    uint16_t attrType;
    char text[24];
  } msg{};
  static_assert(sizeof(msg) == 16 + 20 + 4 + 24);
  msg.hdr.nlmsg_len = sizeof(msg);
  msg.hdr.nlmsg_type = NLMSG_ERROR;
  msg.hdr.nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
  msg.err.error = -EINVAL;
  msg.err.msg.nlmsg_len = 68;  // the request's header; its body is not echoed (capped)
  msg.attrLen = 4 + 24;        // with the NUL
  msg.attrType = NLMSGERR_ATTR_MSG;
  std::memcpy(msg.text, "VF rate is out of range", 23);
  NetlinkAck ack = parseAck(&msg.hdr);
  EXPECT_EQ(ack.errnum, EINVAL);
  EXPECT_EQ(ack.message, "VF rate is out of range");

  msg.hdr.nlmsg_flags = 0;
  msg.hdr.nlmsg_len = 16 + 20;
  msg.err.error = 0;
  ack = parseAck(&msg.hdr);
  EXPECT_EQ(ack.errnum, 0);
  EXPECT_EQ(ack.message, "");
}

// Found by the fuzzer (fuzz/regressions/netlink_fuzzer): an error field that is no negated errno
// (-INT_MIN overflowed), and an echoed request whose length points outside the message.
TEST(VfMessage, AnAckThatLiesIsAnErrorNotAnOverflow) {
  struct {
    nlmsghdr hdr;
    nlmsgerr err;
    uint8_t tail[16];
  } msg{};
  msg.hdr.nlmsg_len = sizeof(msg);
  msg.hdr.nlmsg_type = NLMSG_ERROR;
  msg.err.error = INT32_MIN;
  NetlinkAck ack = parseAck(&msg.hdr);
  EXPECT_EQ(ack.errnum, EBADMSG);
  EXPECT_THAT(ack.message, ::testing::HasSubstr("no errno"));
  msg.err.error = 7;
  EXPECT_EQ(parseAck(&msg.hdr).errnum, EBADMSG);
  msg.err.error = -EPERM;
  msg.hdr.nlmsg_flags = NLM_F_ACK_TLVS;         // not capped: the request is echoed ...
  for (uint32_t lie : {0U, 3U, 0xffffffffU}) {  // ... with a length that cannot be
    msg.err.msg.nlmsg_len = lie;
    ack = parseAck(&msg.hdr);
    EXPECT_EQ(ack.errnum, EPERM) << lie;
    EXPECT_EQ(ack.message, "") << lie;
  }
}

}  // namespace
}  // namespace bwfloor::dataplane::sriov
