#include "core/units.h"

#include <charconv>
#include <ostream>
#include <system_error>

namespace bwfloor {
namespace {

std::string_view trimBlanks(std::string_view text) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

Error rateError(std::string_view text, std::string_view why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid rate \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

std::string Kbps::toString() const { return std::to_string(kbps_) + " kbit/s"; }

std::ostream& operator<<(std::ostream& os, Kbps rate) { return os << rate.toString(); }

Result<Kbps> parseKbps(std::string_view text) {
  const std::string_view digits = trimBlanks(text);
  if (digits.empty()) return rateError(text, "empty, expected a whole number of kbit/s");
  if (digits.front() == '-') return rateError(text, "negative, a rate must be >= 0 kbit/s");
  uint64_t kbps = 0;
  const char* end = digits.data() + digits.size();
  // from_chars, unlike strtoull, accepts no sign, no blanks and no locale surprises.
  const auto [ptr, ec] = std::from_chars(digits.data(), end, kbps);
  if (ec == std::errc::result_out_of_range) {
    return rateError(text, "too large, the maximum is " +
                               std::to_string(std::numeric_limits<uint64_t>::max()) + " kbit/s");
  }
  if (ec != std::errc() || ptr != end) {
    return rateError(text, "not a whole number of kbit/s (digits only, no unit)");
  }
  return Kbps(kbps);
}

}  // namespace bwfloor
