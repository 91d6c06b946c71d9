#include "dataplane/sriov/vf_message.h"

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace bwfloor::dataplane::sriov {
namespace {

// Large enough for either request: headers, a 16-byte name and one VF rate.
constexpr size_t kRequestBufferSize = 256;

nlmsghdr* putLinkRequest(std::vector<uint8_t>& buf, uint16_t type, uint32_t seq,
                         const std::string& pf) {
  buf.assign(kRequestBufferSize, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, pf.c_str());
  return nlh;
}

void finish(std::vector<uint8_t>& buf, const nlmsghdr* nlh) { buf.resize(nlh->nlmsg_len); }

template <typename T>
const T* payloadAs(const nlattr* attr) {
  if (mnl_attr_get_payload_len(attr) < sizeof(T)) return nullptr;
  return static_cast<const T*>(mnl_attr_get_payload(attr));
}

// mnl_attr_parse* callbacks: collect attributes by type into a table, or every attribute.
template <size_t N>
using AttrTable = std::array<const nlattr*, N>;

template <size_t N>
int collectByType(const nlattr* attr, void* data) {
  auto* table = static_cast<AttrTable<N>*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  if (type < N) (*table)[type] = attr;
  return MNL_CB_OK;
}

int collectAll(const nlattr* attr, void* data) {
  static_cast<std::vector<const nlattr*>*>(data)->push_back(attr);
  return MNL_CB_OK;
}

VfStats parseStats(const nlattr* nest) {
  AttrTable<IFLA_VF_STATS_MAX + 1> tb{};
  mnl_attr_parse_nested(nest, collectByType<IFLA_VF_STATS_MAX + 1>, &tb);
  auto get = [&](int type) -> uint64_t {
    const nlattr* attr = tb[type];
    if (attr == nullptr || mnl_attr_get_payload_len(attr) < sizeof(uint64_t)) return 0;
    return mnl_attr_get_u64(attr);
  };
  VfStats stats;
  stats.rxPackets = get(IFLA_VF_STATS_RX_PACKETS);
  stats.txPackets = get(IFLA_VF_STATS_TX_PACKETS);
  stats.rxBytes = get(IFLA_VF_STATS_RX_BYTES);
  stats.txBytes = get(IFLA_VF_STATS_TX_BYTES);
  stats.rxDropped = get(IFLA_VF_STATS_RX_DROPPED);
  stats.txDropped = get(IFLA_VF_STATS_TX_DROPPED);
  return stats;
}

Result<VfState> parseVfInfo(const nlattr* info) {
  AttrTable<IFLA_VF_MAX + 1> tb{};
  if (mnl_attr_parse_nested(info, collectByType<IFLA_VF_MAX + 1>, &tb) < 0) {
    return makeError(ErrorCode::kInternal, "malformed IFLA_VF_INFO");
  }
  const auto* mac = tb[IFLA_VF_MAC] ? payloadAs<ifla_vf_mac>(tb[IFLA_VF_MAC]) : nullptr;
  if (mac == nullptr) return makeError(ErrorCode::kInternal, "IFLA_VF_INFO without IFLA_VF_MAC");
  VfState vf;
  vf.index = mac->vf;
  vf.mac = formatVfMac(mac->mac);
  if (const auto* rate = tb[IFLA_VF_RATE] ? payloadAs<ifla_vf_rate>(tb[IFLA_VF_RATE]) : nullptr) {
    vf.minTxRateMbps = rate->min_tx_rate;
    vf.maxTxRateMbps = rate->max_tx_rate;
  } else if (const auto* tx =
                 tb[IFLA_VF_TX_RATE] ? payloadAs<ifla_vf_tx_rate>(tb[IFLA_VF_TX_RATE]) : nullptr) {
    vf.maxTxRateMbps = tx->rate;
  }
  if (tb[IFLA_VF_STATS] != nullptr) vf.stats = parseStats(tb[IFLA_VF_STATS]);
  return vf;
}

}  // namespace

std::vector<uint8_t> buildGetVfsRequest(const std::string& pf, uint32_t seq, bool withStats) {
  std::vector<uint8_t> buf;
  nlmsghdr* nlh = putLinkRequest(buf, RTM_GETLINK, seq, pf);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK,
                   RTEXT_FILTER_VF | (withStats ? 0u : uint32_t{RTEXT_FILTER_SKIP_STATS}));
  finish(buf, nlh);
  return buf;
}

std::vector<uint8_t> buildSetVfRateRequest(const std::string& pf, uint32_t seq, uint32_t vf,
                                           uint32_t minTxRateMbps, uint32_t maxTxRateMbps) {
  std::vector<uint8_t> buf;
  nlmsghdr* nlh = putLinkRequest(buf, RTM_SETLINK, seq, pf);
  nlattr* list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
  ifla_vf_rate rate{};
  rate.vf = vf;
  rate.min_tx_rate = minTxRateMbps;
  rate.max_tx_rate = maxTxRateMbps;
  mnl_attr_put(nlh, IFLA_VF_RATE, sizeof(rate), &rate);
  mnl_attr_nest_end(nlh, info);
  mnl_attr_nest_end(nlh, list);
  finish(buf, nlh);
  return buf;
}

Result<LinkVfs> parseVfs(const nlmsghdr* msg) {
  if (msg->nlmsg_type != RTM_NEWLINK || msg->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg))) {
    return makeError(ErrorCode::kInternal, "not an RTM_NEWLINK message");
  }
  AttrTable<IFLA_MAX + 1> tb{};
  if (mnl_attr_parse(msg, sizeof(ifinfomsg), collectByType<IFLA_MAX + 1>, &tb) < 0) {
    return makeError(ErrorCode::kInternal, "malformed RTM_NEWLINK attributes");
  }
  LinkVfs out;
  if (tb[IFLA_NUM_VF] != nullptr && mnl_attr_get_payload_len(tb[IFLA_NUM_VF]) >= sizeof(uint32_t)) {
    out.numVfs = mnl_attr_get_u32(tb[IFLA_NUM_VF]);
  }
  if (tb[IFLA_VFINFO_LIST] == nullptr) return out;
  out.listed = true;
  std::vector<const nlattr*> infos;
  if (mnl_attr_parse_nested(tb[IFLA_VFINFO_LIST], collectAll, &infos) < 0) {
    return makeError(ErrorCode::kInternal, "malformed IFLA_VFINFO_LIST");
  }
  for (const nlattr* info : infos) {
    if (mnl_attr_get_type(info) != IFLA_VF_INFO) continue;
    ASSIGN_OR_RETURN(VfState vf, parseVfInfo(info));
    out.vfs.push_back(std::move(vf));
  }
  return out;
}

// errno values are below 4096 (the kernel's MAX_ERRNO).
constexpr int kMaxErrno = 4095;

NetlinkAck parseAck(const nlmsghdr* msg) {
  NetlinkAck ack;
  if (msg->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
    ack.errnum = EBADMSG;
    ack.message = "truncated NLMSG_ERROR";
    return ack;
  }
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(msg));
  // The kernel sends 0 or a negated errno (found by the fuzzer: -INT_MIN overflowed).
  if (err->error > 0 || err->error < -kMaxErrno) {
    ack.errnum = EBADMSG;
    ack.message = "NLMSG_ERROR carries no errno (" + std::to_string(err->error) + ")";
    return ack;
  }
  ack.errnum = -err->error;
  if ((msg->nlmsg_flags & NLM_F_ACK_TLVS) == 0) return ack;
  size_t offset = sizeof(nlmsgerr);  // the request comes back only without NETLINK_CAP_ACK
  if ((msg->nlmsg_flags & NLM_F_CAPPED) == 0) {
    // The echoed request's length comes from the wire: it must fit in this message.
    if (err->msg.nlmsg_len < NLMSG_HDRLEN || err->msg.nlmsg_len > msg->nlmsg_len) return ack;
    offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  if (mnl_nlmsg_size(offset) >= msg->nlmsg_len) return ack;
  AttrTable<NLMSGERR_ATTR_MAX + 1> tb{};
  mnl_attr_parse(msg, static_cast<unsigned>(offset), collectByType<NLMSGERR_ATTR_MAX + 1>, &tb);
  if (tb[NLMSGERR_ATTR_MSG] != nullptr &&
      mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) == 0) {
    ack.message = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
  }
  return ack;
}

}  // namespace bwfloor::dataplane::sriov
