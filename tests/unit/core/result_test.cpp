#include "core/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>

namespace bwfloor {
namespace {

Result<int> parsePositive(int value) {
  if (value <= 0) return makeError(ErrorCode::kInvalidArgument, "not positive");
  return value;
}

Status checkPositive(int value) {
  if (value <= 0) return makeError(ErrorCode::kInvalidArgument, "not positive");
  return Status::ok();
}

// Counts how far the function got, so the tests can see RETURN_IF_ERROR really returned early.
Status twoChecks(int first, int second, int& reached) {
  reached = 0;
  RETURN_IF_ERROR(checkPositive(first));
  reached = 1;
  RETURN_IF_ERROR(parsePositive(second));  // a Result works too
  reached = 2;
  return Status::ok();
}

Result<int> doubled(int value) {
  ASSIGN_OR_RETURN(const int parsed, parsePositive(value));
  return parsed * 2;
}

Result<std::unique_ptr<int>> makeBox(int value) {
  if (value < 0) return makeError(ErrorCode::kNotFound, "no box");
  return std::make_unique<int>(value);
}

Result<int> unbox(int value) {
  std::unique_ptr<int> box;
  ASSIGN_OR_RETURN(box, makeBox(value));  // move-only value, assigned to an existing variable
  return *box + 1;
}

TEST(ResultTest, HoldsValueOrError) {
  const Result<int> good = 7;
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(static_cast<bool>(good));
  EXPECT_EQ(*good, 7);
  EXPECT_EQ(good.value_or(1), 7);

  const Result<int> bad = makeError(ErrorCode::kConflict, "generation mismatch");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(bad.error().message(), "generation mismatch");
  EXPECT_EQ(bad.value_or(1), 1);
}

TEST(ResultTest, ArrowReachesMembers) {
  Result<std::string> text = std::string("abc");
  EXPECT_EQ(text->size(), 3u);
  text->push_back('d');
  EXPECT_EQ(*text, "abcd");
}

TEST(ResultTest, MoveOutOfRvalue) {
  Result<std::unique_ptr<int>> box = std::make_unique<int>(5);
  std::unique_ptr<int> taken = std::move(box).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(ResultTest, StatusOkAndError) {
  EXPECT_TRUE(Status::ok().has_value());
  EXPECT_TRUE(static_cast<bool>(Status()));
  const Status failed = makeError(ErrorCode::kUnavailable, "peer down");
  EXPECT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
}

TEST(ResultTest, ReturnIfErrorStopsAtFirstFailure) {
  int reached = -1;
  EXPECT_TRUE(twoChecks(1, 2, reached).has_value());
  EXPECT_EQ(reached, 2);

  const Status first = twoChecks(0, 2, reached);
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(first.error().message(), "not positive");

  EXPECT_FALSE(twoChecks(1, -1, reached).has_value());
  EXPECT_EQ(reached, 1);
}

TEST(ResultTest, AssignOrReturnAssignsOrPropagates) {
  const Result<int> good = doubled(21);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 42);

  const Result<int> bad = doubled(-1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ResultTest, AssignOrReturnMovesIntoExistingVariable) {
  const Result<int> good = unbox(4);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, 5);
  const Result<int> bad = unbox(-1);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
}

TEST(ResultTest, ErrorToStringAddsErrnoText) {
  EXPECT_EQ(Error(ErrorCode::kKernel, "tc qdisc add dev eth0").toString(), "tc qdisc add dev eth0");
  EXPECT_EQ(Error(ErrorCode::kKernel, "tc qdisc add dev eth0", EOPNOTSUPP).toString(),
            "tc qdisc add dev eth0 (errno 95: Operation not supported)");
  EXPECT_EQ(Error(ErrorCode::kKernel, "open", ENOENT).sysErrno(), ENOENT);
}

TEST(ResultTest, ErrorCodeNames) {
  EXPECT_STREQ(errorCodeName(ErrorCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_STREQ(errorCodeName(ErrorCode::kNotFound), "NOT_FOUND");
  EXPECT_STREQ(errorCodeName(ErrorCode::kAlreadyExists), "ALREADY_EXISTS");
  EXPECT_STREQ(errorCodeName(ErrorCode::kConflict), "CONFLICT");
  EXPECT_STREQ(errorCodeName(ErrorCode::kUnavailable), "UNAVAILABLE");
  EXPECT_STREQ(errorCodeName(ErrorCode::kPermissionDenied), "PERMISSION_DENIED");
  EXPECT_STREQ(errorCodeName(ErrorCode::kUnsupported), "UNSUPPORTED");
  EXPECT_STREQ(errorCodeName(ErrorCode::kKernel), "KERNEL");
  EXPECT_STREQ(errorCodeName(ErrorCode::kInternal), "INTERNAL");
}

TEST(ResultTest, StreamsCodeAndMessage) {
  std::ostringstream out;
  out << Error(ErrorCode::kPermissionDenied, "set vf rate", EPERM);
  EXPECT_EQ(out.str(), "PERMISSION_DENIED: set vf rate (errno 1: Operation not permitted)");
}

}  // namespace
}  // namespace bwfloor
