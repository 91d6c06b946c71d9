#pragma once
// Result<T> / Status: expected failures as values (STYLE.md §4). g++ 12 has no std::expected in
// C++20, so this mirrors its method names (has_value, value, error, value_or) to make the move to
// C++23 a one-line change.

#include <cassert>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace bwfloor {

enum class ErrorCode {
  kInvalidArgument,  // bad input: config, request body, query
  kNotFound,
  kAlreadyExists,
  kConflict,     // generation mismatch, resource in use
  kUnavailable,  // peer down; retry later
  kPermissionDenied,
  kUnsupported,
  kKernel,  // the kernel refused; sysErrno() says why
  kInternal,
};

const char* errorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message, int sysErrno = 0)
      : code_(code), message_(std::move(message)), sysErrno_(sysErrno) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // errno (positive) when the kernel or libc said no, else 0.
  int sysErrno() const { return sysErrno_; }
  // "message (errno 95: Operation not supported)" when an errno is known.
  std::string toString() const;

 private:
  ErrorCode code_;
  std::string message_;
  int sysErrno_;
};

// E is the error type: Error everywhere except where an API needs a richer one (placement's
// ApiError carries an HTTP status and a Placement error code).
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }  // NOLINT(readability-identifier-naming)
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const E& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  template <typename U>
  T value_or(U&& fallback) const& {  // NOLINT(readability-identifier-naming)
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

// BasicStatus is Result<void>: success or an error.
template <typename E>
class [[nodiscard]] BasicStatus {
 public:
  BasicStatus() = default;
  BasicStatus(E error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  static BasicStatus ok() { return {}; }
  bool has_value() const { return !error_.has_value(); }  // NOLINT(readability-identifier-naming)
  explicit operator bool() const { return has_value(); }
  const E& error() const {
    assert(error_.has_value());
    return *error_;
  }

 private:
  std::optional<E> error_;
};
using Status = BasicStatus<Error>;

// For gtest failure messages and ad-hoc streams: "NOT_FOUND: message (errno ...)".
std::ostream& operator<<(std::ostream& os, ErrorCode code);
std::ostream& operator<<(std::ostream& os, const Error& error);

inline Error makeError(ErrorCode code, std::string message, int sysErrno = 0) {
  return {code, std::move(message), sysErrno};
}

}  // namespace bwfloor

#define BWFLOOR_CONCAT_INNER(a, b) a##b
#define BWFLOOR_CONCAT(a, b) BWFLOOR_CONCAT_INNER(a, b)

// Returns the error of a Status or Result expression from the enclosing function.
#define RETURN_IF_ERROR(expr)                           \
  do {                                                  \
    auto&& bwfloorStatus_ = (expr);                     \
    if (!bwfloorStatus_) return bwfloorStatus_.error(); \
  } while (0)

// ASSIGN_OR_RETURN(auto x, f()); declares/assigns x from f()'s value or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BWFLOOR_CONCAT(bwfloorResult_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): lhs may be a declaration ("auto x"), which can't be
// parenthesised; tmp is an identifier made by the macro above.
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp) return tmp.error();               \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
