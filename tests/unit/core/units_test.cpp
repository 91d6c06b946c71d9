#include "core/units.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <sstream>

namespace bwfloor {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(KbpsTest, DefaultIsZero) {
  EXPECT_EQ(Kbps().kbps(), 0u);
  EXPECT_TRUE(Kbps().isZero());
  EXPECT_EQ(Kbps(), Kbps::zero());
  EXPECT_FALSE(Kbps(1).isZero());
}

TEST(KbpsTest, Compares) {
  EXPECT_LT(Kbps(999), Kbps(1000));
  EXPECT_GT(Kbps(1001), Kbps(1000));
  EXPECT_EQ(Kbps(1000), Kbps(1000));
  EXPECT_NE(Kbps(1000), Kbps(1001));
  EXPECT_LE(Kbps(5), Kbps(5));
}

TEST(KbpsTest, AddsAndSubtractsSaturating) {
  EXPECT_EQ(Kbps(1000) + Kbps(500), Kbps(1500));
  EXPECT_EQ(Kbps(1000) - Kbps(400), Kbps(600));
  EXPECT_EQ(Kbps(400) - Kbps(1000), Kbps(0));
  EXPECT_EQ(Kbps::max() + Kbps(1), Kbps::max());
  Kbps total(10);
  total += Kbps(5);
  EXPECT_EQ(total, Kbps(15));
  total -= Kbps(20);
  EXPECT_EQ(total, Kbps(0));
}

TEST(KbpsTest, FromBitsPerSecRoundsUp) {
  EXPECT_EQ(Kbps::fromBitsPerSec(0), Kbps(0));
  EXPECT_EQ(Kbps::fromBitsPerSec(1), Kbps(1));
  EXPECT_EQ(Kbps::fromBitsPerSec(999), Kbps(1));
  EXPECT_EQ(Kbps::fromBitsPerSec(1000), Kbps(1));
  EXPECT_EQ(Kbps::fromBitsPerSec(1001), Kbps(2));
  EXPECT_EQ(Kbps::fromBitsPerSec(10'000'000'000), Kbps(10'000'000));
  EXPECT_EQ(Kbps::fromBitsPerSec(kMax), Kbps(kMax / 1000 + 1));
}

TEST(KbpsTest, ToBitsPerSecIsExactAndSaturates) {
  EXPECT_EQ(Kbps(0).toBitsPerSec(), 0u);
  EXPECT_EQ(Kbps(1).toBitsPerSec(), 1000u);
  EXPECT_EQ(Kbps(1500).toBitsPerSec(), 1'500'000u);
  EXPECT_EQ(Kbps(kMax / 1000).toBitsPerSec(), kMax / 1000 * 1000);
  EXPECT_EQ(Kbps(kMax / 1000 + 1).toBitsPerSec(), kMax);
}

TEST(KbpsTest, BytesPerSecForHtb) {
  EXPECT_EQ(Kbps(0).toBytesPerSec(), 0u);
  EXPECT_EQ(Kbps(1).toBytesPerSec(), 125u);
  EXPECT_EQ(Kbps(8).toBytesPerSec(), 1000u);
  EXPECT_EQ(Kbps(1000).toBytesPerSec(), 125'000u);
  EXPECT_EQ(Kbps(100'000'000).toBytesPerSec(), 12'500'000'000u);  // 100 Gbit/s, past 32 bits
  EXPECT_EQ(Kbps(kMax / 125 + 1).toBytesPerSec(), kMax);
}

TEST(KbpsTest, FromBytesPerSecRoundsUpAndRoundTrips) {
  EXPECT_EQ(Kbps::fromBytesPerSec(0), Kbps(0));
  EXPECT_EQ(Kbps::fromBytesPerSec(1), Kbps(1));
  EXPECT_EQ(Kbps::fromBytesPerSec(125), Kbps(1));
  EXPECT_EQ(Kbps::fromBytesPerSec(126), Kbps(2));
  for (const uint64_t kbps : {1ULL, 7ULL, 1000ULL, 123'456'789ULL}) {
    EXPECT_EQ(Kbps::fromBytesPerSec(Kbps(kbps).toBytesPerSec()), Kbps(kbps)) << kbps;
  }
}

TEST(KbpsTest, MbpsRoundsUpNeverWeakening) {
  EXPECT_EQ(Kbps(0).toMbpsRoundUp(), 0u);
  EXPECT_EQ(Kbps(1).toMbpsRoundUp(), 1u);
  EXPECT_EQ(Kbps(999).toMbpsRoundUp(), 1u);
  EXPECT_EQ(Kbps(1000).toMbpsRoundUp(), 1u);
  EXPECT_EQ(Kbps(1001).toMbpsRoundUp(), 2u);
  EXPECT_EQ(Kbps(2000).toMbpsRoundUp(), 2u);
  EXPECT_EQ(Kbps(kMax).toMbpsRoundUp(), kMax / 1000 + 1);
  // The guarantee never shrinks: converting back is >= the original.
  for (const uint64_t kbps : {1ULL, 999ULL, 1001ULL, 123'456ULL}) {
    EXPECT_GE(Kbps::fromMbps(Kbps(kbps).toMbpsRoundUp()), Kbps(kbps)) << kbps;
  }
}

TEST(KbpsTest, FromMbps) {
  EXPECT_EQ(Kbps::fromMbps(0), Kbps(0));
  EXPECT_EQ(Kbps::fromMbps(1), Kbps(1000));
  EXPECT_EQ(Kbps::fromMbps(25'000), Kbps(25'000'000));
  EXPECT_EQ(Kbps::fromMbps(kMax), Kbps::max());
}

TEST(KbpsTest, ConversionsAreConstexpr) {
  static_assert(Kbps::fromMbps(1).toBytesPerSec() == 125'000);
  static_assert(Kbps(1001).toMbpsRoundUp() == 2);
  EXPECT_EQ(Kbps(1500).toString(), "1500 kbit/s");
  std::ostringstream out;
  out << Kbps(42);
  EXPECT_EQ(out.str(), "42 kbit/s");
}

TEST(KbpsTest, ParsesWholeNumbers) {
  const auto rate = parseKbps("1500");
  ASSERT_TRUE(rate.has_value()) << rate.error();
  EXPECT_EQ(*rate, Kbps(1500));
  EXPECT_EQ(parseKbps("0").value(), Kbps(0));
  EXPECT_EQ(parseKbps(" 42\t").value(), Kbps(42));
  EXPECT_EQ(parseKbps("18446744073709551615").value(), Kbps::max());
}

void expectParseError(std::string_view text, const std::string& message) {
  const auto rate = parseKbps(text);
  ASSERT_FALSE(rate.has_value()) << text;
  EXPECT_EQ(rate.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(rate.error().message(), message);
}

TEST(KbpsTest, ParseErrorsSayWhy) {
  expectParseError("", "invalid rate \"\": empty, expected a whole number of kbit/s");
  expectParseError("  ", "invalid rate \"  \": empty, expected a whole number of kbit/s");
  expectParseError("-5", "invalid rate \"-5\": negative, a rate must be >= 0 kbit/s");
  expectParseError("abc",
                   "invalid rate \"abc\": not a whole number of kbit/s (digits only, no unit)");
  expectParseError("1.5",
                   "invalid rate \"1.5\": not a whole number of kbit/s (digits only, no unit)");
  expectParseError(
      "1500kbit", "invalid rate \"1500kbit\": not a whole number of kbit/s (digits only, no unit)");
  expectParseError("+5",
                   "invalid rate \"+5\": not a whole number of kbit/s (digits only, no unit)");
  expectParseError("18446744073709551616",
                   "invalid rate \"18446744073709551616\": too large, the maximum is "
                   "18446744073709551615 kbit/s");
}

}  // namespace
}  // namespace bwfloor
