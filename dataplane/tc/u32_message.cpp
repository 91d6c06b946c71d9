#include "dataplane/tc/u32_message.h"

#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstring>
#include <string_view>
#include <vector>

namespace bwfloor::dataplane::tc {
namespace {

// A string attribute as the kernel should send it; one without its NUL (found by the fuzzer:
// nla_get_string read past it) ends at the attribute's end.
std::string attrString(const nlattr* attr) {
  const auto* text = static_cast<const char*>(nla_data(attr));
  const int len = nla_len(attr);
  return std::string(text, len > 0 ? strnlen(text, static_cast<size_t>(len)) : 0);
}

constexpr const char* kKindU32 = "u32";
constexpr const char* kKindMirred = "mirred";

std::vector<uint8_t> encodeSelector(const U32Filter& filter) {
  std::vector<uint8_t> buf(sizeof(tc_u32_sel) + filter.keys.size() * sizeof(tc_u32_key), 0);
  auto* sel = reinterpret_cast<tc_u32_sel*>(buf.data());
  sel->nkeys = static_cast<unsigned char>(filter.keys.size());
  // A node that classifies or acts ends the lookup when it matches; a link node does not.
  if (filter.classId != 0 || filter.redirectIfindex != 0) sel->flags |= TC_U32_TERMINAL;
  sel->hoff = filter.hashOffset;
  sel->hmask = htonl(filter.hashMask);
  for (size_t i = 0; i < filter.keys.size(); ++i) {
    tc_u32_key key{};
    key.val = htonl(filter.keys[i].value);  // verbatim, not masked: the port tag lives here
    key.mask = htonl(filter.keys[i].mask);
    key.off = filter.keys[i].offset;
    std::memcpy(buf.data() + sizeof(tc_u32_sel) + i * sizeof(tc_u32_key), &key, sizeof(key));
  }
  return buf;
}

int putRedirect(nl_msg* msg, int ifindex) {
  nlattr* acts = nla_nest_start(msg, TCA_U32_ACT);
  nlattr* first = nla_nest_start(msg, 1);  // action order 1
  if (acts == nullptr || first == nullptr) return -1;
  if (nla_put_string(msg, TCA_ACT_KIND, kKindMirred) < 0) return -1;
  nlattr* opts = nla_nest_start(msg, TCA_ACT_OPTIONS);
  if (opts == nullptr) return -1;
  tc_mirred parms{};
  parms.action = TC_ACT_STOLEN;  // "mirred egress redirect": the frame continues on the IFB only
  parms.eaction = TCA_EGRESS_REDIR;
  parms.ifindex = static_cast<uint32_t>(ifindex);
  if (nla_put(msg, TCA_MIRRED_PARMS, sizeof(parms), &parms) < 0) return -1;
  nla_nest_end(msg, opts);
  nla_nest_end(msg, first);
  nla_nest_end(msg, acts);
  return 0;
}

int putOptions(nl_msg* msg, const U32Filter& filter) {
  nlattr* opts = nla_nest_start(msg, TCA_OPTIONS);
  if (opts == nullptr) return -1;
  if (filter.divisor != 0) {
    if (nla_put_u32(msg, TCA_U32_DIVISOR, filter.divisor) < 0) return -1;
  } else {
    // The table and bucket the node goes into; the node id comes from the handle.
    if (nla_put_u32(msg, TCA_U32_HASH, filter.handle & 0xfffff000u) < 0) return -1;
    if (filter.linkHtid != 0 && nla_put_u32(msg, TCA_U32_LINK, filter.linkHtid << 20) < 0) {
      return -1;
    }
    if (filter.classId != 0 && nla_put_u32(msg, TCA_U32_CLASSID, filter.classId) < 0) return -1;
    std::vector<uint8_t> sel = encodeSelector(filter);
    if (nla_put(msg, TCA_U32_SEL, static_cast<int>(sel.size()), sel.data()) < 0) return -1;
    if (filter.redirectIfindex != 0 && putRedirect(msg, filter.redirectIfindex) < 0) return -1;
  }
  nla_nest_end(msg, opts);
  return 0;
}

void parseSelector(const nlattr* attr, U32Filter& filter) {
  const int len = nla_len(attr);
  if (len < static_cast<int>(sizeof(tc_u32_sel))) return;
  tc_u32_sel sel{};
  std::memcpy(&sel, nla_data(attr), sizeof(sel));
  filter.hashOffset = sel.hoff;
  filter.hashMask = ntohl(sel.hmask);
  const auto* base = static_cast<const uint8_t*>(nla_data(attr)) + sizeof(tc_u32_sel);
  for (int i = 0; i < sel.nkeys; ++i) {
    if (sizeof(tc_u32_sel) + (i + 1) * sizeof(tc_u32_key) > static_cast<size_t>(len)) break;
    tc_u32_key key{};
    std::memcpy(&key, base + i * sizeof(tc_u32_key), sizeof(key));
    filter.keys.push_back(U32Key{ntohl(key.val), ntohl(key.mask), key.off});
  }
}

void parseActions(nlattr* attr, U32Filter& filter) {
  nlattr* action = nullptr;
  int rem = 0;
  nla_for_each_nested(action, attr, rem) {
    nlattr* tb[TCA_ACT_MAX + 1] = {};
    if (nla_parse_nested(tb, TCA_ACT_MAX, action, nullptr) < 0 || tb[TCA_ACT_KIND] == nullptr) {
      continue;
    }
    if (attrString(tb[TCA_ACT_KIND]) != kKindMirred) continue;
    nlattr* opts[TCA_MIRRED_MAX + 1] = {};
    if (tb[TCA_ACT_OPTIONS] == nullptr ||
        nla_parse_nested(opts, TCA_MIRRED_MAX, tb[TCA_ACT_OPTIONS], nullptr) < 0 ||
        opts[TCA_MIRRED_PARMS] == nullptr ||
        nla_len(opts[TCA_MIRRED_PARMS]) < static_cast<int>(sizeof(tc_mirred))) {
      continue;
    }
    tc_mirred parms{};
    std::memcpy(&parms, nla_data(opts[TCA_MIRRED_PARMS]), sizeof(parms));
    if (parms.eaction == TCA_EGRESS_REDIR) filter.redirectIfindex = static_cast<int>(parms.ifindex);
  }
}

}  // namespace

nl_msg* buildU32Message(int type, int flags, int ifindex, const U32Filter& filter) {
  nl_msg* msg = nlmsg_alloc_simple(type, flags);
  if (msg == nullptr) return nullptr;
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_handle = filter.handle;
  tcm.tcm_parent = filter.parent;
  tcm.tcm_info = TC_H_MAKE(static_cast<uint32_t>(filter.prio) << 16, htons(filter.protocol));
  bool ok = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) == 0 &&
            nla_put_string(msg, TCA_KIND, kKindU32) == 0;
  if (ok && type == RTM_NEWTFILTER) ok = putOptions(msg, filter) == 0;
  if (!ok) {
    nlmsg_free(msg);
    return nullptr;
  }
  return msg;
}

std::optional<U32Filter> parseU32Message(nl_msg* msg) {
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_len < static_cast<uint32_t>(nlmsg_size(sizeof(tcmsg)))) return std::nullopt;
  const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
  nlattr* tb[TCA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0) return std::nullopt;
  // Without a handle it is the header the kernel sends for each priority, not a filter.
  if (tb[TCA_KIND] == nullptr || tcm->tcm_handle == 0) return std::nullopt;
  U32Filter filter;
  filter.kind = attrString(tb[TCA_KIND]);
  filter.parent = tcm->tcm_parent;
  filter.prio = static_cast<uint16_t>(TC_H_MAJ(tcm->tcm_info) >> 16);
  filter.protocol = ntohs(static_cast<uint16_t>(TC_H_MIN(tcm->tcm_info)));
  filter.handle = tcm->tcm_handle;
  if (filter.kind != kKindU32 || tb[TCA_OPTIONS] == nullptr) return filter;
  nlattr* opts[TCA_U32_MAX + 1] = {};
  if (nla_parse_nested(opts, TCA_U32_MAX, tb[TCA_OPTIONS], nullptr) < 0) return std::nullopt;
  if (opts[TCA_U32_DIVISOR] != nullptr) {
    filter.divisor = nla_get_u32(opts[TCA_U32_DIVISOR]);
    return filter;
  }
  if (opts[TCA_U32_LINK] != nullptr) filter.linkHtid = nla_get_u32(opts[TCA_U32_LINK]) >> 20;
  if (opts[TCA_U32_CLASSID] != nullptr) filter.classId = nla_get_u32(opts[TCA_U32_CLASSID]);
  if (opts[TCA_U32_SEL] != nullptr) parseSelector(opts[TCA_U32_SEL], filter);
  if (opts[TCA_U32_ACT] != nullptr) parseActions(opts[TCA_U32_ACT], filter);
  return filter;
}

}  // namespace bwfloor::dataplane::tc
