// The fake kernel must hold to the kernel's rules, or backend tests prove nothing. Each rule
// modelled here was checked against this kernel with tc (see the integration tests).
#include "dataplane/tc/testing/fake_tc_api.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "dataplane/tc/htb_layout.h"

namespace bwfloor::dataplane::tc {
namespace {

const Uuid kPort = Uuid::parse("7a1c2e4f-8d3b-4c5e-9f10-112233445566").value();
const MacAddress kMac{0xfa, 0x16, 0x3e, 0x12, 0x34, 0x56};

EthernetHeader fromMac(const MacAddress& src) {
  EthernetHeader eth{};
  std::copy(src.begin(), src.end(), eth.begin() + 6);
  return eth;
}

class FakeTcApiTest : public ::testing::Test {
 protected:
  FakeTcApiTest() { fake_.addDeviceForTest("eth0"); }
  void buildTree() {
    ASSERT_TRUE(fake_.addQdisc("eth0", htbQdisc()));
    ASSERT_TRUE(fake_.addClass("eth0", rootClass(Kbps(100000))));
    ASSERT_TRUE(fake_.addFilter("eth0", portHashTable()));
    ASSERT_TRUE(fake_.addFilter("eth0", macLinkFilter(MacField::kSource)));
  }
  FakeTcApi fake_;
};

TEST_F(FakeTcApiTest, ClassesFollowSchHtbRules) {
  Status noQdisc = fake_.addClass("eth0", rootClass(Kbps(1000)));
  ASSERT_FALSE(noQdisc);
  EXPECT_EQ(noQdisc.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(fake_.addQdisc("eth0", htbQdisc()));
  // Like sch_htb: a missing parent makes a top-level class, and a change cannot move it.
  ASSERT_TRUE(fake_.addClass("eth0", htbClass(0x50, 1, Kbps(1), Kbps(1))));
  ASSERT_TRUE(fake_.addClass("eth0", rootClass(Kbps(1000))));
  ASSERT_TRUE(fake_.changeClass("eth0", htbClass(0x50, 1, Kbps(2), Kbps(2))));
  const auto list = fake_.listClasses("eth0").value();
  EXPECT_EQ(list.front().handle, makeHandle(1, 1));
  EXPECT_EQ(list.front().parent, kParentRoot);
  EXPECT_EQ(list.back().parent, kParentRoot);
  EXPECT_EQ(list.back().rateBytesPerSec, 250u);
  ASSERT_TRUE(fake_.deleteClass("eth0", makeHandle(1, 0x50)));
  Status dup = fake_.addClass("eth0", rootClass(Kbps(1000)));
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(fake_.addClass("eth0", defaultClass(Kbps(1), Kbps(1000))));
  EXPECT_EQ(fake_.deleteClass("eth0", makeHandle(1, 1)).error().sysErrno(), EBUSY);
  EXPECT_EQ(fake_.changeClass("eth0", htbClass(0x99, 1, Kbps(1), Kbps(1))).error().code(),
            ErrorCode::kNotFound);
}

TEST_F(FakeTcApiTest, ReplacingOrDeletingTheRootQdiscTakesEverythingUnderIt) {
  buildTree();
  ASSERT_TRUE(fake_.deleteQdisc("eth0", htbQdisc()));
  EXPECT_TRUE(fake_.listClasses("eth0").value().empty());
  EXPECT_TRUE(fake_.listFilters("eth0", kHtbQdiscHandle).value().empty());
  EXPECT_EQ(fake_.listQdiscs("eth0").value().front().kind, "noqueue");
  EXPECT_EQ(fake_.deleteQdisc("eth0", htbQdisc()).error().code(), ErrorCode::kNotFound);
}

TEST_F(FakeTcApiTest, U32NodesNeedTheirTableAndBucket) {
  ASSERT_TRUE(fake_.addQdisc("eth0", htbQdisc()));
  Status noTable = fake_.addFilter("eth0", portFilter(kPort, kMac, MacField::kSource, 0x12));
  ASSERT_FALSE(noTable);
  EXPECT_EQ(noTable.error().sysErrno(), EINVAL);
  U32Filter small = portHashTable();
  small.divisor = 16;
  ASSERT_TRUE(fake_.addFilter("eth0", small));
  EXPECT_FALSE(fake_.addFilter("eth0", portFilter(kPort, kMac, MacField::kSource, 0x12)));  // 0x56
  // The root table 800: appears with the first filter, as in the kernel's dumps.
  bool root = false;
  const auto list = fake_.listFilters("eth0", kHtbQdiscHandle).value();
  for (const U32Filter& f : list) {
    root = root || (f.handle == makeU32Handle(kU32RootHtid, 0, 0) && f.divisor == 1);
  }
  EXPECT_TRUE(root);
}

TEST_F(FakeTcApiTest, ChangeKeepsTheKeysAsTheKernelDoes) {
  buildTree();
  U32Filter f = portFilter(kPort, kMac, MacField::kSource, 0x12);
  ASSERT_TRUE(fake_.addFilter("eth0", f));
  EXPECT_EQ(fake_.addFilter("eth0", f).error().code(), ErrorCode::kAlreadyExists);
  U32Filter other = portFilter(kPort, MacAddress{1, 2, 3, 4, 5, 0x56}, MacField::kSource, 0x12);
  other.classId = makeHandle(1, 0x13);
  ASSERT_TRUE(fake_.changeFilter("eth0", other));
  const auto list = fake_.listFilters("eth0", kHtbQdiscHandle).value();
  for (const U32Filter& g : list) {
    if (g.handle != f.handle) continue;
    EXPECT_EQ(g.keys, f.keys);
    EXPECT_EQ(g.classId, makeHandle(1, 0x13));
  }
}

TEST_F(FakeTcApiTest, ClassifyFollowsTheLinkIntoTheMacsBucket) {
  buildTree();
  ASSERT_TRUE(fake_.addFilter("eth0", portFilter(kPort, kMac, MacField::kSource, 0x12)));
  EXPECT_EQ(fake_.classifyForTest("eth0", fromMac(kMac)), makeHandle(1, 0x12));
  MacAddress sameBucket = kMac;
  sameBucket[4] = 0;
  EXPECT_EQ(fake_.classifyForTest("eth0", fromMac(sameBucket)), 0u);
  MacAddress otherBucket = kMac;
  otherBucket[5] = 0;
  EXPECT_EQ(fake_.classifyForTest("eth0", fromMac(otherBucket)), 0u);
}

TEST_F(FakeTcApiTest, LeafQdiscsLiveUnderTheirClass) {
  buildTree();
  Qdisc leaf{makeHandle(0x1001, 0), makeHandle(1, 1), "pfifo"};
  leaf.fifoLimitPackets = 16;
  Qdisc orphan = leaf;
  orphan.parent = makeHandle(1, 7);
  EXPECT_EQ(fake_.addQdisc("eth0", orphan).error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(fake_.addQdisc("eth0", leaf));
  leaf.fifoLimitPackets = 32;  // replaces
  ASSERT_TRUE(fake_.addQdisc("eth0", leaf));
  std::vector<Qdisc> qdiscs = fake_.listQdiscs("eth0").value();
  ASSERT_EQ(qdiscs.size(), 2u);
  EXPECT_EQ(qdiscs[1], leaf);
  ASSERT_TRUE(fake_.addClass("eth0", htbClass(0x12, 1, Kbps(1000), Kbps(2000))));
  ASSERT_TRUE(fake_.deleteClass("eth0", makeHandle(1, 0x12)));
  ASSERT_TRUE(fake_.deleteQdisc("eth0", leaf));
  EXPECT_EQ(fake_.listQdiscs("eth0").value().size(), 1u);
}

TEST_F(FakeTcApiTest, AClassAFilterIsBoundToCannotBeDeleted) {
  fake_.modelClassInUseForTest(true);
  buildTree();
  // Made before its class: not bound (HtbBackend's order), the class can go.
  const U32Filter early = portFilter(kPort, kMac, MacField::kSource, 0x12);
  ASSERT_TRUE(fake_.addFilter("eth0", early));
  ASSERT_TRUE(fake_.addClass("eth0", htbClass(0x12, 1, Kbps(1000), Kbps(2000))));
  ASSERT_TRUE(fake_.deleteClass("eth0", makeHandle(1, 0x12)));
  // Made after its class: bound, EBUSY until the filter goes.
  ASSERT_TRUE(fake_.addClass("eth0", htbClass(0x12, 1, Kbps(1000), Kbps(2000))));
  ASSERT_TRUE(fake_.deleteFilter("eth0", early));
  ASSERT_TRUE(fake_.addFilter("eth0", early));
  Status busy = fake_.deleteClass("eth0", makeHandle(1, 0x12));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().sysErrno(), EBUSY);
  ASSERT_TRUE(fake_.deleteFilter("eth0", early));
  EXPECT_TRUE(fake_.deleteClass("eth0", makeHandle(1, 0x12)));
}

TEST_F(FakeTcApiTest, InjectedFailureHitsOnlyTheNextCall) {
  fake_.failNextForTest("addQdisc", makeError(ErrorCode::kKernel, "boom", EIO));
  EXPECT_EQ(fake_.addQdisc("eth0", htbQdisc()).error().sysErrno(), EIO);
  EXPECT_TRUE(fake_.addQdisc("eth0", htbQdisc()));
  EXPECT_EQ(fake_.mutationsForTest(), 1);
}

TEST_F(FakeTcApiTest, LinksAndIngress) {
  ASSERT_TRUE(fake_.addIfb("ifb-eth0", 500, "alias"));
  EXPECT_EQ(fake_.addIfb("ifb-eth0", 500, "alias").error().code(), ErrorCode::kAlreadyExists);
  std::optional<TcLink> ifb = fake_.getLink("ifb-eth0").value();
  ASSERT_TRUE(ifb);
  EXPECT_EQ(ifb->kind, "ifb");
  EXPECT_EQ(ifb->txQueueLen, 500u);
  EXPECT_EQ(ifb->alias, "alias");
  Qdisc ingress{kIngressHandle, kParentIngress, "ingress"};
  ASSERT_TRUE(fake_.addQdisc("eth0", ingress));
  EXPECT_EQ(fake_.addQdisc("eth0", ingress).error().code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(fake_.addFilter("eth0", redirectFilter(ifb->ifindex)));
  EXPECT_EQ(fake_.ingressRedirectForTest("eth0", fromMac(kMac)), ifb->ifindex);
  ASSERT_TRUE(fake_.deleteLink("ifb-eth0"));
  EXPECT_FALSE(fake_.getLink("ifb-eth0").value());
  EXPECT_EQ(fake_.deleteLink("ifb-eth0").error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace bwfloor::dataplane::tc
