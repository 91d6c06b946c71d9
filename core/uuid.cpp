#include "core/uuid.h"

#include <openssl/evp.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>

namespace bwfloor {
namespace {

constexpr size_t kDashedLength = 36;
constexpr size_t kUndashedLength = 32;
constexpr std::array<size_t, 4> kDashPositions = {8, 13, 18, 23};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isDashPosition(size_t index) {
  for (size_t dash : kDashPositions) {
    if (index == dash) return true;
  }
  return false;
}

Error uuidError(std::string_view text, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "invalid UUID \"" + std::string(text) + "\": " + why);
}

// Sets the RFC 4122 version nibble and the variant bits (10xx).
void stamp(Uuid::Bytes& bytes, uint8_t version) {
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | (version << 4));
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
}

// getrandom() rather than a seeded std::mt19937_64: no state to copy across fork(), so two agent
// processes can never hand out the same UUIDs.
void fillRandom(uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = getrandom(out + done, size - done, 0);
    if (got > 0) {
      done += static_cast<size_t>(got);
    } else if (got < 0 && errno != EINTR) {
      break;  // ENOSYS on a pre-3.17 kernel; fall back below
    }
  }
  if (done == size) return;
  std::random_device device;  // libstdc++ reads /dev/urandom or RDRAND
  for (size_t i = done; i < size; ++i) out[i] = static_cast<uint8_t>(device());
}

}  // namespace

Result<Uuid> Uuid::parse(std::string_view text) {
  const bool dashed = text.size() == kDashedLength;
  if (!dashed && text.size() != kUndashedLength) {
    return uuidError(text, "expected 32 hex digits, optionally dashed as 8-4-4-4-12, got " +
                               std::to_string(text.size()) + " characters");
  }
  Bytes bytes{};
  size_t nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool wantDash = dashed && isDashPosition(i);
    if (wantDash || text[i] == '-') {
      if (wantDash && text[i] == '-') continue;
      return uuidError(text, (wantDash ? "expected '-'" : "unexpected '-'") +
                                 std::string(" at position ") + std::to_string(i));
    }
    const int value = hexValue(text[i]);
    if (value < 0) {
      return uuidError(text, "'" + std::string(1, text[i]) + "' at position " + std::to_string(i) +
                                 " is not a hex digit");
    }
    bytes[nibble / 2] |= static_cast<uint8_t>(nibble % 2 == 0 ? value << 4 : value);
    ++nibble;
  }
  return Uuid(bytes);
}

std::string Uuid::toString() const {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(kDashedLength);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes_[i] >> 4]);
    out.push_back(kHex[bytes_[i] & 0x0f]);
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const Uuid& uuid) { return os << uuid.toString(); }

Uuid uuid4() {
  Uuid::Bytes bytes{};
  fillRandom(bytes.data(), bytes.size());
  stamp(bytes, 4);
  return Uuid(bytes);
}

Uuid uuid5(const Uuid& ns, std::string_view name) {
  std::string input(ns.bytes().begin(), ns.bytes().end());
  input.append(name);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digestLength = 0;
  // EVP_Digest, not the SHA1() shortcut that OpenSSL 3 deprecates. SHA-1 is mandated by RFC 4122
  // here; it is not used for security.
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digestLength, EVP_sha1(), nullptr) !=
          1 ||
      digestLength < 16) {
    // Invariant: SHA-1 is always available in libcrypto's default provider. Without it no provider
    // UUID can be computed, so continuing would report wrong resource providers.
    std::fputs("bwfloor: FATAL: libcrypto could not compute SHA-1 for uuid5\n", stderr);
    std::abort();
  }
  Uuid::Bytes bytes{};
  std::memcpy(bytes.data(), digest.data(), bytes.size());
  stamp(bytes, 5);
  return Uuid(bytes);
}

}  // namespace bwfloor

size_t std::hash<bwfloor::Uuid>::operator()(const bwfloor::Uuid& uuid) const noexcept {
  // The bytes are already uniformly distributed (random or SHA-1), so folding them is enough.
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, uuid.bytes().data(), sizeof(high));
  std::memcpy(&low, uuid.bytes().data() + sizeof(high), sizeof(low));
  return static_cast<size_t>(high ^ (low * 0x9e3779b97f4a7c15ULL));
}
