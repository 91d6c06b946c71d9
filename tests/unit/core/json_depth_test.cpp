#include "core/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace bwfloor {
namespace {

TEST(CoreJsonDepthTest, CountsArraysAndObjects) {
  EXPECT_EQ(jsonNestingDepth(""), 0u);
  EXPECT_EQ(jsonNestingDepth("5"), 0u);
  EXPECT_EQ(jsonNestingDepth("{}"), 1u);
  EXPECT_EQ(jsonNestingDepth(R"({"a": [1, {"b": []}], "c": {}})"), 4u);
}

TEST(CoreJsonDepthTest, BracketsInsideStringsDoNotCount) {
  EXPECT_EQ(jsonNestingDepth(R"({"a": "[[[{{{"})"), 1u);
  // An escaped quote does not end the string.
  EXPECT_EQ(jsonNestingDepth(R"(["\"[[[", "\\", [1]])"), 2u);
}

TEST(CoreJsonDepthTest, TheIssuesBodyIsTooDeep) {
  // ~70,000 levels took the server down (issue 15); the check costs one pass.
  const std::string deep = std::string(70000, '[') + std::string(70000, ']');
  EXPECT_EQ(jsonNestingDepth(deep), 70000u);
  EXPECT_TRUE(jsonTooDeep(deep));
  EXPECT_FALSE(jsonTooDeep(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')));
  EXPECT_TRUE(jsonTooDeep(std::string(kMaxJsonDepth + 1, '{')));
}

}  // namespace
}  // namespace bwfloor
