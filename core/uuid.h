#pragma once
// Uuid: resource provider, port and allocation identifiers. uuid5() must reproduce Python's
// uuid.uuid5() bit for bit: Neutron derives the UUIDs of its agent and device resource providers
// with it (agent: uuid5(ns, host); device: uuid5(ns, "host:device")), and Nova and Placement match
// on those UUIDs.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "core/result.h"

namespace bwfloor {

class Uuid {
 public:
  using Bytes = std::array<uint8_t, 16>;

  constexpr Uuid() = default;  // the nil UUID
  constexpr explicit Uuid(const Bytes& bytes) : bytes_(bytes) {}

  // Accepts "87ee7d5c-73bb-11e8-9008-c4d987b2a692" and "87ee7d5c73bb11e89008c4d987b2a692", any
  // case. Errors (kInvalidArgument) name the offending character and its position.
  static Result<Uuid> parse(std::string_view text);

  const Bytes& bytes() const { return bytes_; }
  bool isNil() const { return *this == Uuid(); }
  // The version nibble (4 = random, 5 = SHA-1 name based).
  int version() const { return bytes_[6] >> 4; }
  // Lower-case, dashed: the form Placement and Neutron print.
  std::string toString() const;

  // Byte-wise, which is also the order of the canonical strings.
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
  friend constexpr auto operator<=>(const Uuid&, const Uuid&) = default;

 private:
  Bytes bytes_{};
};

std::ostream& operator<<(std::ostream& os, const Uuid& uuid);

// A random (version 4) UUID from the kernel's CSPRNG.
Uuid uuid4();

// A name-based (version 5, SHA-1) UUID per RFC 4122 §4.3; name is hashed as given (UTF-8 bytes).
Uuid uuid5(const Uuid& ns, std::string_view name);

// Namespaces Neutron's mechanism drivers use for resource_provider_uuid5_namespace, so our
// providers get the UUIDs a Neutron agent on the same host would report.
inline constexpr Uuid kOvsAgentNamespace(Uuid::Bytes{0x87, 0xee, 0x7d, 0x5c, 0x73, 0xbb, 0x11, 0xe8,
                                                     0x90, 0x08, 0xc4, 0xd9, 0x87, 0xb2, 0xa6,
                                                     0x92});
inline constexpr Uuid kSriovAgentNamespace(Uuid::Bytes{0x87, 0xf1, 0x89, 0x5c, 0x73, 0xbb, 0x11,
                                                       0xe8, 0x90, 0x08, 0xc4, 0xd9, 0x87, 0xb2,
                                                       0xa6, 0x92});

}  // namespace bwfloor

template <>
struct std::hash<bwfloor::Uuid> {
  size_t operator()(const bwfloor::Uuid& uuid) const noexcept;
};
