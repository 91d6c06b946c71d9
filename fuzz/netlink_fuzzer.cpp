// netlink_fuzzer: the netlink answers the agent parses, from a kernel that lies.
//
// Feeds: the input is one netlink message (nlmsghdr, family header, attributes). Its nlmsg_len
// is set to the input's size, as the receive loops (mnl_cb_run, libnl's nl_recvmsgs) guarantee
// before a parser sees a message, and the buffer is zero-padded to NLMSG_ALIGN(size) as a receive
// buffer is; everything inside (attribute lengths, nesting, counts) is the input's. Every input
// goes to each parser with the message type the agent hands it:
//   RTM_NEWLINK    dataplane/sriov parseVfs (MnlVfApi's VF table), and libnl-route's link parser
//                  (nl_msg_parse) + dataplane/netlink linkInfoFromRtnl (NetlinkLinkSource)
//   NLMSG_ERROR    dataplane/sriov parseAck (the acknowledgement and its extended-ack text)
//   RTM_NEWTFILTER dataplane/tc parseU32Message (LibnlTcApi's filter dumps)
// The libnl parsers get the message as libnl's receive loop makes it (nlmsg_convert).
// Asserts: no crash and no sanitizer report; a parsed VF's MAC is empty or "aa:bb:cc:dd:ee:ff"
// in lower case; a parsed u32 filter has at most 255 keys (tc_u32_sel's nkeys is a byte).

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/netlink/netlink_link_source.h"
#include "dataplane/netlink/tc_change_netlink.h"
#include "dataplane/sriov/vf_message.h"
#include "dataplane/tc/u32_message.h"

namespace {

namespace sriov = bwfloor::dataplane::sriov;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\nnetlink_fuzzer: %s\n", what.c_str());
  std::abort();
}

// The input as a received message of type `type`.
std::vector<uint8_t> message(const uint8_t* data, size_t size, uint16_t type) {
  std::vector<uint8_t> buf(NLMSG_ALIGN(size), 0);
  std::memcpy(buf.data(), data, size);
  auto* hdr = reinterpret_cast<nlmsghdr*>(buf.data());
  hdr->nlmsg_len = static_cast<uint32_t>(size);
  hdr->nlmsg_type = type;
  return buf;
}

bool wellFormedMac(const std::string& mac) {
  if (mac.empty()) return true;
  if (mac.size() != 17) return false;
  for (size_t i = 0; i < mac.size(); ++i) {
    const char c = mac[i];
    const bool ok = i % 3 == 2 ? c == ':' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

void vfs(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf = message(data, size, RTM_NEWLINK);
  auto parsed = sriov::parseVfs(reinterpret_cast<const nlmsghdr*>(buf.data()));
  if (!parsed) return;
  for (const auto& vf : parsed->vfs) {
    if (!wellFormedMac(vf.mac)) fail("parseVfs: VF " + std::to_string(vf.index) + " MAC " + vf.mac);
  }
  (void)parsed->truncated();
}

void ack(const uint8_t* data, size_t size) {
  std::vector<uint8_t> buf = message(data, size, NLMSG_ERROR);
  (void)sriov::parseAck(reinterpret_cast<const nlmsghdr*>(buf.data()));
}

struct NlMsgDeleter {
  void operator()(nl_msg* msg) const { nlmsg_free(msg); }
};
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgDeleter>;

NlMsgPtr libnlMessage(const uint8_t* data, size_t size, uint16_t type) {
  std::vector<uint8_t> buf = message(data, size, type);
  NlMsgPtr msg(nlmsg_convert(reinterpret_cast<nlmsghdr*>(buf.data())));
  if (msg) nlmsg_set_proto(msg.get(), NETLINK_ROUTE);
  return msg;
}

void u32(const uint8_t* data, size_t size) {
  NlMsgPtr msg = libnlMessage(data, size, RTM_NEWTFILTER);
  if (!msg) return;
  auto filter = bwfloor::dataplane::tc::parseU32Message(msg.get());
  if (filter && filter->keys.size() > 255) {
    fail("parseU32Message: " + std::to_string(filter->keys.size()) + " keys");
  }
}

void link(const uint8_t* data, size_t size) {
  NlMsgPtr msg = libnlMessage(data, size, RTM_NEWLINK);
  if (!msg) return;
  nl_msg_parse(
      msg.get(),
      [](nl_object* obj, void*) {
        (void)bwfloor::dataplane::linkInfoFromRtnl(reinterpret_cast<rtnl_link*>(obj));
      },
      nullptr);
}

}  // namespace

// libnl has no frame pointers: only the slow unwinder sees rtnl_link_sriov_parse_vflist in the
// allocation stacks that sanitizer_defaults.cpp's suppression matches.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): ASan's hook
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's name
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < sizeof(nlmsghdr)) return 0;  // the receive loops drop what is not a header
  vfs(data, size);
  ack(data, size);
  u32(data, size);
  link(data, size);
  // The tc notifications the agent follows: every change named must come from a whole message.
  for (const auto& change : bwfloor::dataplane::parseTcChanges(data, size)) {
    if (change.type == bwfloor::dataplane::TcChange::Type::kOverflow) __builtin_trap();
  }
  return 0;
}
