#include "core/result.h"

#include <array>
#include <cstring>
#include <ostream>

namespace bwfloor {
namespace {

// strerror() may share one static buffer between threads; strerror_r() does not. glibc has two
// strerror_r() flavours (GNU returns char*, XSI returns int); these overloads accept either.
[[maybe_unused]] const char* pickStrerror(const char* message, const char* /*buffer*/) {
  return message;
}
[[maybe_unused]] const char* pickStrerror(int rc, const char* buffer) {
  return rc == 0 ? buffer : "Unknown error";
}

std::string describeErrno(int sysErrno) {
  std::array<char, 256> buffer{};
  return pickStrerror(strerror_r(sysErrno, buffer.data(), buffer.size()), buffer.data());
}

}  // namespace

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case ErrorCode::kConflict:
      return "CONFLICT";
    case ErrorCode::kUnavailable:
      return "UNAVAILABLE";
    case ErrorCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case ErrorCode::kUnsupported:
      return "UNSUPPORTED";
    case ErrorCode::kKernel:
      return "KERNEL";
    case ErrorCode::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";  // only reachable through a cast from an out-of-range integer
}

std::string Error::toString() const {
  if (sysErrno_ == 0) return message_;
  return message_ + " (errno " + std::to_string(sysErrno_) + ": " + describeErrno(sysErrno_) + ")";
}

std::ostream& operator<<(std::ostream& os, ErrorCode code) { return os << errorCodeName(code); }

std::ostream& operator<<(std::ostream& os, const Error& error) {
  return os << errorCodeName(error.code()) << ": " << error.toString();
}

}  // namespace bwfloor
