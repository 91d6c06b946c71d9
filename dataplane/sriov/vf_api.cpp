#include "dataplane/sriov/vf_api.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>

namespace bwfloor::dataplane::sriov {

Error vfKernelError(const std::string& what, int errnum) {
  ErrorCode code = ErrorCode::kKernel;
  switch (errnum) {
    case ENODEV:
    case ENOENT:
      code = ErrorCode::kNotFound;
      break;
    case EPERM:
    case EACCES:
      code = ErrorCode::kPermissionDenied;
      break;
    case EOPNOTSUPP:
      code = ErrorCode::kUnsupported;
      break;
    default:
      break;
  }
  return makeError(code, what, errnum);
}

std::string formatVfMac(const uint8_t* bytes) {
  bool zero = true;
  for (int i = 0; i < 6; ++i) zero = zero && bytes[i] == 0;
  if (zero) return {};
  std::array<char, 18> buf{};
  std::snprintf(buf.data(), buf.size(), "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1],
                bytes[2], bytes[3], bytes[4], bytes[5]);
  return buf.data();
}

std::string normalizeMac(const std::string& mac) {
  std::string out = mac;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out == "00:00:00:00:00:00" ? std::string() : out;
}

}  // namespace bwfloor::dataplane::sriov
