#pragma once
// Kbps: the one bandwidth type (STYLE.md §5). Placement counts kbit/s, tc HTB bytes/s, OVS bit/s
// and SR-IOV Mbit/s; every conversion lives here so each rounding rule is written and tested once.
// 1 kbit = 1000 bit, as in Placement's NET_BW_*_KILOBIT_PER_SEC and tc's "kbit".
//
// Rounding rule: conversions into a coarser unit round UP, so a minimum guarantee is never
// weakened. Conversions into a finer unit are exact and saturate at UINT64_MAX instead of wrapping
// (a wrapped rate would be a tiny rate, i.e. a broken guarantee).

#include <compare>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>

#include "core/result.h"

namespace bwfloor {

class Kbps {
 public:
  constexpr Kbps() = default;
  constexpr explicit Kbps(uint64_t kbps) : kbps_(kbps) {}

  static constexpr Kbps zero() { return Kbps(0); }
  static constexpr Kbps max() { return Kbps(std::numeric_limits<uint64_t>::max()); }

  // Rounds up: 1 bit/s -> 1 kbit/s, 1000 -> 1, 1001 -> 2.
  static constexpr Kbps fromBitsPerSec(uint64_t bitsPerSec) {
    return Kbps(ceilDiv(bitsPerSec, kBitsPerKbit));
  }
  // Rounds up: tc reports bytes/s; 125 bytes/s is exactly 1 kbit/s.
  static constexpr Kbps fromBytesPerSec(uint64_t bytesPerSec) {
    return Kbps(ceilDiv(bytesPerSec, kBytesPerSecPerKbps));
  }
  // Saturates.
  static constexpr Kbps fromMbps(uint64_t mbps) { return Kbps(saturatingMul(mbps, kKbpsPerMbps)); }

  constexpr uint64_t kbps() const { return kbps_; }
  // Exact; saturates. OVS other_config:min-rate is in bit/s.
  constexpr uint64_t toBitsPerSec() const { return saturatingMul(kbps_, kBitsPerKbit); }
  // Exact (kbit/s * 1000 / 8 = kbit/s * 125); saturates. tc HTB rate/ceil are bytes/s.
  constexpr uint64_t toBytesPerSec() const { return saturatingMul(kbps_, kBytesPerSecPerKbps); }
  // Rounds up so an SR-IOV VF min_tx_rate never weakens the guarantee: 0 -> 0, 1 -> 1, 1000 -> 1,
  // 1001 -> 2.
  constexpr uint64_t toMbpsRoundUp() const { return ceilDiv(kbps_, kKbpsPerMbps); }

  constexpr bool isZero() const { return kbps_ == 0; }
  // "1500 kbit/s", for messages; log lines use key=value with kbps() instead.
  std::string toString() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  friend constexpr auto operator<=>(Kbps, Kbps) = default;

  // Saturating: a sum of guarantees past UINT64_MAX stays at the maximum, never wraps to small.
  friend constexpr Kbps operator+(Kbps a, Kbps b) { return Kbps(saturatingAdd(a.kbps_, b.kbps_)); }
  // Saturating at zero: "capacity minus allocations" can't be negative. Compare first where going
  // below zero is itself an error (over-commit).
  friend constexpr Kbps operator-(Kbps a, Kbps b) {
    return Kbps(a.kbps_ > b.kbps_ ? a.kbps_ - b.kbps_ : 0);
  }
  constexpr Kbps& operator+=(Kbps other) { return *this = *this + other; }
  constexpr Kbps& operator-=(Kbps other) { return *this = *this - other; }

 private:
  static constexpr uint64_t kBitsPerKbit = 1000;
  static constexpr uint64_t kBytesPerSecPerKbps = 125;
  static constexpr uint64_t kKbpsPerMbps = 1000;

  static constexpr uint64_t ceilDiv(uint64_t n, uint64_t d) { return n / d + (n % d != 0 ? 1 : 0); }
  static constexpr uint64_t saturatingMul(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() / b ? std::numeric_limits<uint64_t>::max()
                                                        : a * b;
  }
  static constexpr uint64_t saturatingAdd(uint64_t a, uint64_t b) {
    return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                        : a + b;
  }

  uint64_t kbps_ = 0;
};

// For gtest failure messages and ad-hoc streams.
std::ostream& operator<<(std::ostream& os, Kbps rate);

// Parses a whole, non-negative number of kbit/s ("1500"); surrounding blanks are ignored. Errors
// (kInvalidArgument) say which rule was broken: empty, negative, not a whole number, too large.
Result<Kbps> parseKbps(std::string_view text);

}  // namespace bwfloor
