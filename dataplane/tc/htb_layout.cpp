#include "dataplane/tc/htb_layout.h"

#include <algorithm>
#include <bit>
#include <cstdio>

namespace bwfloor::dataplane::tc {
namespace {

constexpr uint32_t kFullMask = 0xffffffffu;
constexpr size_t kIfNameMax = 15;  // IFNAMSIZ - 1
constexpr uint32_t kMinBurstBytes = 64 * 1024;
constexpr uint32_t kBurstMillis = 1;
constexpr uint32_t kRate2Quantum = 10;
constexpr uint32_t kMinQuantumBytes = 1600;
constexpr uint32_t kMaxQuantumBytes = 200000;

uint32_t word(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | uint32_t{d};
}

uint8_t byteOf(uint32_t value, int index) {  // index 0 = most significant
  return static_cast<uint8_t>(value >> (24 - 8 * index));
}

uint32_t fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<MacAddress> parseMac(std::string_view text) {
  MacAddress mac{};
  auto bad = [&] {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid MAC address \"" + std::string(text) + "\": want aa:bb:cc:dd:ee:ff");
  };
  if (text.size() != 17) return bad();
  for (size_t i = 0; i < mac.size(); ++i) {
    int hi = hexDigit(text[3 * i]);
    int lo = hexDigit(text[3 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    if (i < 5 && text[3 * i + 2] != ':') return bad();
    mac[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return mac;
}

std::string formatMac(const MacAddress& mac) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

std::vector<U32Key> macKeys(const MacAddress& mac, MacField field) {
  if (field == MacField::kSource) {
    return {U32Key{word(mac[0], mac[1], mac[2], mac[3]), kFullMask, -8},
            U32Key{word(mac[4], mac[5], 0, 0), 0xffff0000u, -4}};
  }
  return {U32Key{word(0, 0, mac[0], mac[1]), 0x0000ffffu, -16},
          U32Key{word(mac[2], mac[3], mac[4], mac[5]), kFullMask, -12}};
}

std::optional<MacAddress> macFromKeys(const std::vector<U32Key>& keys, MacField field) {
  if (keys.size() < 2) return std::nullopt;
  const U32Key& a = keys[0];
  const U32Key& b = keys[1];
  if (field == MacField::kSource) {
    if (a.offset != -8 || a.mask != kFullMask || b.offset != -4 || b.mask != 0xffff0000u) {
      return std::nullopt;
    }
    return MacAddress{byteOf(a.value, 0), byteOf(a.value, 1), byteOf(a.value, 2),
                      byteOf(a.value, 3), byteOf(b.value, 0), byteOf(b.value, 1)};
  }
  if (a.offset != -16 || a.mask != 0x0000ffffu || b.offset != -12 || b.mask != kFullMask) {
    return std::nullopt;
  }
  return MacAddress{byteOf(a.value, 2), byteOf(a.value, 3), byteOf(b.value, 0),
                    byteOf(b.value, 1), byteOf(b.value, 2), byteOf(b.value, 3)};
}

HashSelector macHashSelector(MacField field) {
  // Last MAC byte: src byte 11 is the 2nd byte of the word at -4; dst byte 5 the 4th at -12.
  return field == MacField::kSource ? HashSelector{-4, 0x00ff0000u}
                                    : HashSelector{-12, 0x000000ffu};
}

std::vector<U32Key> portTagKeys(const Uuid& portId, int32_t offset) {
  std::vector<U32Key> keys{U32Key{kTagHeaderPort, 0, offset}};
  const Uuid::Bytes& b = portId.bytes();
  for (size_t i = 0; i < b.size(); i += 4) {
    keys.push_back(U32Key{word(b[i], b[i + 1], b[i + 2], b[i + 3]), 0, offset});
  }
  return keys;
}

std::optional<Uuid> portFromTag(const std::vector<U32Key>& keys) {
  for (size_t i = 0; i + 4 < keys.size(); ++i) {
    if (keys[i].mask != 0 || keys[i].value != kTagHeaderPort) continue;
    Uuid::Bytes bytes{};
    for (size_t w = 0; w < 4; ++w) {
      const U32Key& key = keys[i + 1 + w];
      if (key.mask != 0) return std::nullopt;
      for (int j = 0; j < 4; ++j) bytes[4 * w + j] = byteOf(key.value, j);
    }
    return Uuid(bytes);
  }
  return std::nullopt;
}

bool hasRedirectTag(const std::vector<U32Key>& keys) {
  return std::any_of(keys.begin(), keys.end(), [](const U32Key& key) {
    return key.mask == 0 && key.value == kTagHeaderRedirect;
  });
}

U32Filter portHashTable() {
  U32Filter f;
  f.parent = kHtbQdiscHandle;
  f.prio = kFilterPrio;
  f.handle = makeU32Handle(kPortHtid, 0, 0);
  f.divisor = kPortBuckets;
  return f;
}

U32Filter macLinkFilter(MacField field) {
  U32Filter f;
  f.parent = kHtbQdiscHandle;
  f.prio = kFilterPrio;
  f.handle = kLinkFilterHandle;
  f.linkHtid = kPortHtid;
  HashSelector sel = macHashSelector(field);
  f.hashOffset = sel.offset;
  f.hashMask = sel.mask;
  f.keys = {U32Key{0, 0, 0}};  // match everything ("match u32 0 0 at 0")
  return f;
}

U32Filter portFilter(const Uuid& portId, const MacAddress& mac, MacField field, uint32_t minor) {
  U32Filter f;
  f.parent = kHtbQdiscHandle;
  f.prio = kFilterPrio;
  f.handle = makeU32Handle(kPortHtid, macBucket(mac), minor);
  f.keys = macKeys(mac, field);
  // The tag reads the word of the full-mask MAC key, which the kernel just fetched.
  const int32_t tagOffset = field == MacField::kSource ? -8 : -12;
  for (const U32Key& key : portTagKeys(portId, tagOffset)) f.keys.push_back(key);
  f.classId = makeHandle(kHtbMajor, minor);
  return f;
}

U32Filter redirectFilter(int ifbIfindex) {
  U32Filter f;
  f.parent = kIngressHandle;
  f.prio = kFilterPrio;
  f.handle = kRedirectFilterHandle;
  f.keys = {U32Key{0, 0, 0}, U32Key{kTagHeaderRedirect, 0, 0}};
  f.redirectIfindex = ifbIfindex;
  return f;
}

uint32_t htbBurstBytes(uint64_t rateBytesPerSec) {
  uint64_t burst = rateBytesPerSec * kBurstMillis / 1000;
  burst = std::max<uint64_t>(burst, kMinBurstBytes);
  return static_cast<uint32_t>(std::min<uint64_t>(burst, 0x7fffffffu));
}

uint32_t htbQuantumBytes(uint64_t rateBytesPerSec) {
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(rateBytesPerSec / kRate2Quantum, kMinQuantumBytes, kMaxQuantumBytes));
}

Qdisc htbQdisc() {
  Qdisc q;
  q.handle = kHtbQdiscHandle;
  q.parent = kParentRoot;
  q.kind = "htb";
  q.htbDefaultMinor = kDefaultClassMinor;
  q.htbRate2Quantum = kRate2Quantum;
  return q;
}

HtbClass htbClass(uint32_t minor, uint32_t parentMinor, Kbps rate, Kbps ceil) {
  HtbClass c;
  c.handle = makeHandle(kHtbMajor, minor);
  // A top-level class: the kernel reports its parent as TC_H_ROOT, so that is what we say too.
  c.parent = parentMinor == 0 ? kParentRoot : makeHandle(kHtbMajor, parentMinor);
  c.rateBytesPerSec = rate.toBytesPerSec();
  c.ceilBytesPerSec = std::max(ceil, rate).toBytesPerSec();
  c.burstBytes = htbBurstBytes(c.rateBytesPerSec);
  c.cburstBytes = htbBurstBytes(c.ceilBytesPerSec);
  c.quantumBytes = htbQuantumBytes(c.rateBytesPerSec);
  return c;
}

HtbClass rootClass(Kbps total) { return htbClass(kRootClassMinor, 0, total, total); }

HtbClass defaultClass(Kbps floor, Kbps total) {
  return htbClass(kDefaultClassMinor, kRootClassMinor, std::min(floor, total), total);
}

uint32_t frameTruesize(uint32_t mtu) {
  constexpr uint32_t kDefaultMtu = 1500;
  constexpr uint32_t kEthHeader = 14;
  constexpr uint32_t kReserve = 16 + 20;  // LL_RESERVED_SPACE + sockaddr_ll (packet_snd)
  constexpr uint32_t kSharedInfo = 320;   // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
  constexpr uint32_t kSkBuff = 256;       // SKB_DATA_ALIGN(sizeof(struct sk_buff))
  const uint32_t frame = (mtu == 0 ? kDefaultMtu : mtu) + kEthHeader;
  return std::bit_ceil(frame + kReserve + kSharedInfo) + kSkBuff;
}

uint32_t framesInBuffer(uint64_t bufferBytes, uint32_t mtu) {
  return static_cast<uint32_t>(std::min<uint64_t>(bufferBytes / frameTruesize(mtu), 1u << 20));
}

uint32_t defaultLeafPackets(uint32_t frames) { return std::max(kMinLeafPackets, frames / 8); }

uint32_t portLeafPackets(uint32_t frames, Kbps min, Kbps total) {
  if (total.isZero()) return kMinLeafPackets;
  const uint64_t share = uint64_t{frames} / 2 * std::min(min, total).kbps() / total.kbps();
  return static_cast<uint32_t>(std::max<uint64_t>(kMinLeafPackets, share));
}

Qdisc leafQdisc(uint32_t minor, uint32_t packets) {
  Qdisc q;
  q.handle = leafQdiscHandle(minor);
  q.parent = makeHandle(kHtbMajor, minor);
  q.kind = "pfifo";
  q.fifoLimitPackets = packets;
  return q;
}

std::string ifbNameFor(const std::string& uplink) {
  std::string name = "ifb-" + uplink;
  if (name.size() <= kIfNameMax) return name;
  char suffix[8];
  std::snprintf(suffix, sizeof(suffix), "-%04x", fnv1a(uplink) & 0xffffu);
  return "ifb-" + uplink.substr(0, 6) + suffix;
}

std::optional<uint32_t> allocatePortMinor(std::string_view portId,
                                          const std::function<bool(uint32_t)>& isFree) {
  const uint32_t start = fnv1a(portId) % kPortMinorCount;
  for (uint32_t i = 0; i < kPortMinorCount; ++i) {
    uint32_t minor = kFirstPortMinor + (start + i) % kPortMinorCount;
    if (isFree(minor)) return minor;
  }
  return std::nullopt;
}

}  // namespace bwfloor::dataplane::tc
