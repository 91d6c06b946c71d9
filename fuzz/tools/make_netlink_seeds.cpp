// Writes fuzz/corpus/netlink_fuzzer/: netlink messages as the agent sends and receives them.
// The requests come from vf_message.h's encoders (their layout is an RTM_NEWLINK's: ifinfomsg,
// IFLA_IFNAME, a VF list), the u32 filters from u32_message.h's encoder (the filters HtbBackend
// installs), and the kernel's answers are built with libmnl the way the kernel lays them out (the
// unit tests' hand-built answers, tests/unit/dataplane/vf_message_test.cpp).
//
//   cmake --build --preset fuzz --target make_netlink_seeds
//   build-fuzz/bin/make_netlink_seeds fuzz/corpus/netlink_fuzzer

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dataplane/sriov/vf_message.h"
#include "dataplane/tc/u32_message.h"

namespace {

namespace sriov = bwfloor::dataplane::sriov;
namespace tc = bwfloor::dataplane::tc;

std::string outDir;
int written = 0;

void write(const std::string& name, const void* data, size_t size) {
  std::ofstream out(outDir + "/" + name + ".bin", std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  ++written;
}

void write(const std::string& name, const std::vector<uint8_t>& bytes) {
  write(name, bytes.data(), bytes.size());
}

// An RTM_NEWLINK answer for a PF with `vfs` VFs listed (of `numVfs`), as the kernel sends it.
std::vector<uint8_t> linkAnswer(const char* name, uint32_t numVfs, uint32_t vfs, bool stats) {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_seq = 1;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = 4;
  ifi->ifi_flags = 0x11043;  // UP, BROADCAST, RUNNING, MULTICAST, LOWER_UP
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  const std::array<uint8_t, 6> pfMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  mnl_attr_put(nlh, IFLA_ADDRESS, pfMac.size(), pfMac.data());
  mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
  mnl_attr_put_u32(nlh, IFLA_MASTER, 7);
  nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "netdevsim");
  mnl_attr_nest_end(nlh, linkinfo);
  mnl_attr_put_u32(nlh, IFLA_NUM_VF, numVfs);
  if (vfs > 0) {
    nlattr* list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
    for (uint32_t vf = 0; vf < vfs; ++vf) {
      nlattr* info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
      ifla_vf_mac mac{};
      mac.vf = vf;
      const std::array<uint8_t, 6> vfMac = {0xfa, 0x16, 0x3e, 0, 0, static_cast<uint8_t>(vf)};
      if (vf % 2 == 0) std::memcpy(mac.mac, vfMac.data(), vfMac.size());  // odd VFs: unset
      mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(mac), &mac);
      ifla_vf_tx_rate tx{vf, 1000 * vf};
      mnl_attr_put(nlh, IFLA_VF_TX_RATE, sizeof(tx), &tx);
      ifla_vf_rate rate{vf, 100 * vf, 1000 * vf};
      mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(rate), &rate);
      if (stats) {
        nlattr* st = mnl_attr_nest_start(nlh, IFLA_VF_STATS);
        for (uint16_t type = IFLA_VF_STATS_RX_PACKETS; type <= IFLA_VF_STATS_TX_DROPPED; ++type) {
          mnl_attr_put_u64(nlh, type, 1000u + type);
        }
        mnl_attr_nest_end(nlh, st);
      }
      mnl_attr_nest_end(nlh, info);
    }
    mnl_attr_nest_end(nlh, list);
  }
  buf.resize(nlh->nlmsg_len);
  return buf;
}

// An NLMSG_ERROR for `request`: errno (0 = ack), with the request echoed unless capped, and the
// extended-ack text when given.
std::vector<uint8_t> ackAnswer(const std::vector<uint8_t>& request, int errnum, bool capped,
                               const char* text) {
  std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_seq = 7;
  if (capped) nlh->nlmsg_flags |= NLM_F_CAPPED;
  if (text != nullptr) nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
  const size_t payload =
      capped ? sizeof(nlmsgerr) : sizeof(nlmsgerr) - sizeof(nlmsghdr) + request.size();
  auto* err = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, MNL_ALIGN(payload)));
  err->error = -errnum;
  std::memcpy(&err->msg, request.data(), capped ? sizeof(nlmsghdr) : request.size());
  if (text != nullptr) {
    mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
    mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 36);
  }
  buf.resize(nlh->nlmsg_len);
  return buf;
}

void writeU32(const std::string& name, int type, const tc::U32Filter& filter) {
  nl_msg* msg = tc::buildU32Message(type, NLM_F_CREATE | NLM_F_EXCL, 4, filter);
  if (msg == nullptr) return;
  const nlmsghdr* hdr = nlmsg_hdr(msg);
  write(name, hdr, hdr->nlmsg_len);
  nlmsg_free(msg);
}

void u32Seeds() {
  tc::U32Filter table;  // a hash table of 256 buckets
  table.parent = 0x00010000;
  table.prio = 1;
  table.handle = 0x00100000;
  table.divisor = 256;
  writeU32("u32_hash_table", RTM_NEWTFILTER, table);

  tc::U32Filter link;  // jump into the table on the last byte of the source MAC
  link.parent = 0x00010000;
  link.prio = 1;
  link.handle = 0x80000800;
  link.linkHtid = 0x100;
  link.hashOffset = -4;
  link.hashMask = 0x000000ff;
  link.keys = {{0, 0, -4}};
  writeU32("u32_link", RTM_NEWTFILTER, link);

  tc::U32Filter mac;  // classify one source MAC into 1:12
  mac.parent = 0x00010000;
  mac.prio = 1;
  mac.handle = 0x10000a01;
  mac.classId = 0x00010012;
  mac.keys = {{0xfa163e00, 0xffffffff, -8}, {0x000a0000, 0xffff0000, -4}};
  writeU32("u32_classify_mac", RTM_NEWTFILTER, mac);

  tc::U32Filter redirect;  // ingress: redirect everything to the IFB
  redirect.parent = 0xffff0000;
  redirect.prio = 1;
  redirect.handle = 0x80000800;
  redirect.redirectIfindex = 9;
  redirect.keys = {{0, 0, 0}};
  writeU32("u32_redirect_ifb", RTM_NEWTFILTER, redirect);

  writeU32("u32_delete", RTM_DELTFILTER, mac);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  outDir = argv[1];
  const std::vector<uint8_t> setRate = sriov::buildSetVfRateRequest("eth0", 7, 3, 100, 1000);
  write("setlink_vf_rate", setRate);
  write("getlink_vfs", sriov::buildGetVfsRequest("ens1f0", 1, /*withStats=*/false));
  write("getlink_vfs_stats", sriov::buildGetVfsRequest("ens1f0", 2, /*withStats=*/true));
  write("newlink_no_vfs", linkAnswer("eth1", 0, 0, false));
  write("newlink_4_vfs", linkAnswer("eth0", 4, 4, false));
  write("newlink_2_vfs_stats", linkAnswer("eth0", 2, 2, true));
  write("newlink_truncated_list", linkAnswer("eth0", 256, 3, true));
  write("newlink_num_vf_only", linkAnswer("eth0", 8, 0, false));
  write("ack", ackAnswer(setRate, 0, true, nullptr));
  write("error_einval_echo", ackAnswer(setRate, EINVAL, false, nullptr));
  write("error_eopnotsupp_extack",
        ackAnswer(setRate, EOPNOTSUPP, true, "VF rate setting is not supported in switchdev"));
  write("error_extack_echo", ackAnswer(setRate, ERANGE, false, "min_tx_rate exceeds max_tx_rate"));
  u32Seeds();
  std::printf("%d seeds in %s\n", written, outDir.c_str());
  return 0;
}
