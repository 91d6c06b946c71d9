// The u32 message codec on in-memory libnl messages (no socket, no root): the exact attributes
// the kernel receives, and a round trip through the parser that reads the kernel's dumps.
#include "dataplane/tc/u32_message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>
#include <memory>

#include "dataplane/tc/htb_layout.h"

namespace bwfloor::dataplane::tc {
namespace {

struct MsgFree {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using MsgPtr = std::unique_ptr<nl_msg, MsgFree>;

const Uuid kPort = Uuid::parse("7a1c2e4f-8d3b-4c5e-9f10-112233445566").value();
const MacAddress kMac{0xfa, 0x16, 0x3e, 0x12, 0x34, 0x56};

nlattr* options(nl_msg* msg, nlattr** tb) {
  nlattr* top[TCA_MAX + 1] = {};
  EXPECT_EQ(nlmsg_parse(nlmsg_hdr(msg), sizeof(tcmsg), top, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(top[TCA_KIND]), "u32");
  EXPECT_EQ(nla_parse_nested(tb, TCA_U32_MAX, top[TCA_OPTIONS], nullptr), 0);
  return top[TCA_OPTIONS];
}

TEST(U32Message, PortFilterCarriesHeaderSelectorAndClass) {
  const U32Filter f = portFilter(kPort, kMac, MacField::kSource, 0x12);
  MsgPtr msg(buildU32Message(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, 7, f));
  ASSERT_TRUE(msg);
  const nlmsghdr* hdr = nlmsg_hdr(msg.get());
  EXPECT_EQ(hdr->nlmsg_type, RTM_NEWTFILTER);
  EXPECT_EQ(hdr->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
  EXPECT_EQ(tcm->tcm_ifindex, 7);
  EXPECT_EQ(tcm->tcm_handle, 0x01056012u);  // 10:56:12
  EXPECT_EQ(tcm->tcm_parent, 0x00010000u);  // 1:
  EXPECT_EQ(tcm->tcm_info, (10u << 16) | htons(ETH_P_ALL));

  nlattr* tb[TCA_U32_MAX + 1] = {};
  options(msg.get(), tb);
  EXPECT_EQ(nla_get_u32(tb[TCA_U32_CLASSID]), 0x00010012u);
  EXPECT_EQ(nla_get_u32(tb[TCA_U32_HASH]), 0x01056000u);  // table 10:, bucket 0x56
  EXPECT_EQ(tb[TCA_U32_LINK], nullptr);
  ASSERT_NE(tb[TCA_U32_SEL], nullptr);
  ASSERT_EQ(nla_len(tb[TCA_U32_SEL]),
            static_cast<int>(sizeof(tc_u32_sel) + 7 * sizeof(tc_u32_key)));
  const auto* sel = static_cast<const tc_u32_sel*>(nla_data(tb[TCA_U32_SEL]));
  EXPECT_EQ(sel->nkeys, 7);
  EXPECT_EQ(sel->flags & TC_U32_TERMINAL, TC_U32_TERMINAL);
  tc_u32_key keys[7];
  std::memcpy(keys, reinterpret_cast<const uint8_t*>(sel) + sizeof(tc_u32_sel), sizeof(keys));
  EXPECT_EQ(keys[0].val, htonl(0xfa163e12));
  EXPECT_EQ(keys[0].mask, htonl(0xffffffff));
  EXPECT_EQ(keys[0].off, -8);
  EXPECT_EQ(keys[1].val, htonl(0x34560000));
  EXPECT_EQ(keys[1].off, -4);
  // The tag: values kept verbatim although the mask is 0 (libnl's own u32 would zero them).
  EXPECT_EQ(keys[2].val, htonl(kTagHeaderPort));
  EXPECT_EQ(keys[2].mask, 0u);
  EXPECT_EQ(keys[3].val, htonl(0x7a1c2e4f));
  EXPECT_EQ(keys[5].val, htonl(0x9f101122));
  EXPECT_EQ(keys[6].val, htonl(0x33445566));
}

TEST(U32Message, RoundTripsEveryKindOfNode) {
  for (const U32Filter& f : {portFilter(kPort, kMac, MacField::kSource, 0x12),
                             portFilter(kPort, kMac, MacField::kDestination, 0xfff),
                             portHashTable(), macLinkFilter(MacField::kSource),
                             macLinkFilter(MacField::kDestination), redirectFilter(42)}) {
    MsgPtr msg(buildU32Message(RTM_NEWTFILTER, NLM_F_CREATE, 3, f));
    ASSERT_TRUE(msg);
    std::optional<U32Filter> parsed = parseU32Message(msg.get());
    ASSERT_TRUE(parsed) << formatU32Handle(f.handle);
    EXPECT_EQ(*parsed, f) << formatU32Handle(f.handle);
  }
}

TEST(U32Message, RedirectIsAMirredEgressRedirectThatStealsTheFrame) {
  MsgPtr msg(buildU32Message(RTM_NEWTFILTER, NLM_F_CREATE, 3, redirectFilter(42)));
  nlattr* tb[TCA_U32_MAX + 1] = {};
  options(msg.get(), tb);
  ASSERT_NE(tb[TCA_U32_ACT], nullptr);
  nlattr* first = static_cast<nlattr*>(nla_data(tb[TCA_U32_ACT]));
  nlattr* act[TCA_ACT_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(act, TCA_ACT_MAX, first, nullptr), 0);
  EXPECT_STREQ(nla_get_string(act[TCA_ACT_KIND]), "mirred");
  nlattr* opts[TCA_MIRRED_MAX + 1] = {};
  ASSERT_EQ(nla_parse_nested(opts, TCA_MIRRED_MAX, act[TCA_ACT_OPTIONS], nullptr), 0);
  tc_mirred parms{};
  std::memcpy(&parms, nla_data(opts[TCA_MIRRED_PARMS]), sizeof(parms));
  EXPECT_EQ(parms.eaction, TCA_EGRESS_REDIR);
  EXPECT_EQ(parms.action, TC_ACT_STOLEN);
  EXPECT_EQ(parms.ifindex, 42u);
}

TEST(U32Message, DeleteCarriesOnlyTheAddress) {
  MsgPtr msg(buildU32Message(RTM_DELTFILTER, 0, 3, portFilter(kPort, kMac, MacField::kSource, 1)));
  nlattr* top[TCA_MAX + 1] = {};
  ASSERT_EQ(nlmsg_parse(nlmsg_hdr(msg.get()), sizeof(tcmsg), top, TCA_MAX, nullptr), 0);
  EXPECT_STREQ(nla_get_string(top[TCA_KIND]), "u32");
  EXPECT_EQ(top[TCA_OPTIONS], nullptr);
}

TEST(U32Message, PriorityHeadersAreSkippedOtherKindsListedByAddress) {
  MsgPtr header(nlmsg_alloc_simple(RTM_NEWTFILTER, 0));  // what the kernel sends per priority
  tcmsg tcm{};
  tcm.tcm_parent = 0x00010000;
  ASSERT_EQ(nlmsg_append(header.get(), &tcm, sizeof(tcm), NLMSG_ALIGNTO), 0);
  ASSERT_EQ(nla_put_string(header.get(), TCA_KIND, "u32"), 0);
  EXPECT_EQ(parseU32Message(header.get()), std::nullopt);

  MsgPtr bpf(nlmsg_alloc_simple(RTM_NEWTFILTER, 0));
  tcm.tcm_handle = 1;
  ASSERT_EQ(nlmsg_append(bpf.get(), &tcm, sizeof(tcm), NLMSG_ALIGNTO), 0);
  ASSERT_EQ(nla_put_string(bpf.get(), TCA_KIND, "bpf"), 0);
  std::optional<U32Filter> other = parseU32Message(bpf.get());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, "bpf");
  EXPECT_EQ(other->handle, 1u);
  EXPECT_TRUE(other->keys.empty());
}

// Found by the fuzzer (fuzz/regressions/netlink_fuzzer/u32-kind-without-nul): a kind attribute
// without its NUL is read to the attribute's end, not on into whatever follows it.
TEST(U32Message, AKindWithoutItsNulEndsAtTheAttribute) {
  struct {
    nlmsghdr hdr;
    tcmsg tcm;
    nlattr kind;
    char text[4];  // "bpf" without NUL, then a non-zero padding byte
    nlattr next;
    char more[4];
  } raw{};
  raw.hdr.nlmsg_len = sizeof(raw);
  raw.hdr.nlmsg_type = RTM_NEWTFILTER;
  raw.tcm.tcm_handle = 1;
  raw.kind.nla_len = sizeof(nlattr) + 3;
  raw.kind.nla_type = TCA_KIND;
  std::memcpy(raw.text, "bpfX", 4);
  raw.next.nla_len = sizeof(nlattr) + 4;
  raw.next.nla_type = TCA_CHAIN;
  std::memcpy(raw.more, "YYYY", 4);
  MsgPtr msg(nlmsg_convert(&raw.hdr));
  ASSERT_NE(msg, nullptr);
  std::optional<U32Filter> parsed = parseU32Message(msg.get());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->kind, "bpf");
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
