#include "core/uuid.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace bwfloor {
namespace {

Uuid mustParse(std::string_view text) {
  auto uuid = Uuid::parse(text);
  EXPECT_TRUE(uuid.has_value()) << text;
  return uuid.value_or(Uuid());
}

// Expected values from Python, which Neutron uses:
//   python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('<ns>'), '<name>'))"
struct Uuid5Vector {
  const char* ns;
  const char* name;
  const char* expected;
};

constexpr const char* kOvsNs = "87ee7d5c-73bb-11e8-9008-c4d987b2a692";
constexpr const char* kSriovNs = "87f1895c-73bb-11e8-9008-c4d987b2a692";

TEST(UuidTest, Uuid5MatchesPython) {
  const std::vector<Uuid5Vector> vectors = {
      {kOvsNs, "devstack0", "89ca1421-5117-5348-acab-6d0e2054239c"},
      {kSriovNs, "devstack0", "4a8a819d-61f9-5822-8c5c-3e9c7cb942d6"},
      {kSriovNs, "devstack0:ens5", "1c7e83f0-108d-5c35-ada7-7ebebbe43aad"},
      {kOvsNs, "devstack0:br-test", "f9c9ce07-679d-5d72-ac5f-31720811629a"},
      // From Neutron's own mech driver tests ("uuid -v5 <ns> host:eth0").
      {kOvsNs, "host:eth0", "13cc0ed9-e802-5eaa-b4c7-3441855e31f2"},
      {kSriovNs, "host:eth0", "5762cf50-781b-5f01-8ebc-0cce8c9e74cd"},
      {kOvsNs, "", "21c30990-9db5-555b-937b-9d4b012dd52f"},
      {kOvsNs, "h\xc3\xb6st", "e59de04f-ddba-5c2c-a69c-6b97d2591154"},  // UTF-8 "höst"
  };
  for (const auto& v : vectors) {
    const Uuid got = uuid5(mustParse(v.ns), v.name);
    EXPECT_EQ(got.toString(), v.expected) << v.ns << " " << v.name;
    EXPECT_EQ(got.version(), 5);
  }
}

TEST(UuidTest, NeutronNamespaceConstants) {
  EXPECT_EQ(kOvsAgentNamespace.toString(), kOvsNs);
  EXPECT_EQ(kSriovAgentNamespace.toString(), kSriovNs);
  EXPECT_EQ(uuid5(kOvsAgentNamespace, "devstack0").toString(),
            "89ca1421-5117-5348-acab-6d0e2054239c");
}

TEST(UuidTest, ParsesDashedAndUndashedAnyCase) {
  const Uuid dashed = mustParse("89CA1421-5117-5348-ACAB-6d0e2054239c");
  const Uuid undashed = mustParse("89ca142151175348acab6D0E2054239C");
  EXPECT_EQ(dashed, undashed);
  EXPECT_EQ(dashed.toString(), "89ca1421-5117-5348-acab-6d0e2054239c");
  EXPECT_EQ(dashed.bytes()[0], 0x89);
  EXPECT_EQ(dashed.bytes()[15], 0x9c);
}

TEST(UuidTest, RoundTripsThroughString) {
  for (int i = 0; i < 50; ++i) {
    const Uuid original = uuid4();
    const auto parsed = Uuid::parse(original.toString());
    ASSERT_TRUE(parsed.has_value()) << parsed.error();
    EXPECT_EQ(*parsed, original);
  }
}

TEST(UuidTest, NilUuid) {
  const Uuid nil;
  EXPECT_TRUE(nil.isNil());
  EXPECT_EQ(nil.toString(), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(mustParse("00000000-0000-0000-0000-000000000000"), nil);
  EXPECT_FALSE(uuid4().isNil());
}

void expectParseError(std::string_view text, const std::string& message) {
  const auto uuid = Uuid::parse(text);
  ASSERT_FALSE(uuid.has_value()) << text;
  EXPECT_EQ(uuid.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(uuid.error().message(), message);
}

TEST(UuidTest, RejectsMalformedStrings) {
  expectParseError("",
                   "invalid UUID \"\": expected 32 hex digits, optionally dashed as "
                   "8-4-4-4-12, got 0 characters");
  expectParseError("89ca1421-5117-5348-acab-6d0e2054239",
                   "invalid UUID \"89ca1421-5117-5348-acab-6d0e2054239\": expected 32 hex digits, "
                   "optionally dashed as 8-4-4-4-12, got 35 characters");
  expectParseError("89ca1421-5117-5348-acab-6d0e2054239g",
                   "invalid UUID \"89ca1421-5117-5348-acab-6d0e2054239g\": 'g' at position 35 is "
                   "not a hex digit");
  expectParseError("89ca14215-117-5348-acab-6d0e2054239c",
                   "invalid UUID \"89ca14215-117-5348-acab-6d0e2054239c\": expected '-' at "
                   "position 8");
  expectParseError("89ca1421-5117-5348-acab6d0e2054239c-",
                   "invalid UUID \"89ca1421-5117-5348-acab6d0e2054239c-\": expected '-' at "
                   "position 23");
  expectParseError("89ca1421-5117-5348-acab-6d0e2054-39c",
                   "invalid UUID \"89ca1421-5117-5348-acab-6d0e2054-39c\": unexpected '-' at "
                   "position 32");
  expectParseError("89ca1421-5117534-8acab6d0e2054239c",
                   "invalid UUID \"89ca1421-5117534-8acab6d0e2054239c\": expected 32 hex digits, "
                   "optionally dashed as 8-4-4-4-12, got 34 characters");
  expectParseError("89ca1421511753-8acab6d0e2054239c",
                   "invalid UUID \"89ca1421511753-8acab6d0e2054239c\": unexpected '-' at position "
                   "14");
  expectParseError("{89ca1421-5117-5348-acab-6d0e2054239c}",
                   "invalid UUID \"{89ca1421-5117-5348-acab-6d0e2054239c}\": expected 32 hex "
                   "digits, optionally dashed as 8-4-4-4-12, got 38 characters");
}

TEST(UuidTest, Uuid4IsVersion4Rfc4122AndUnique) {
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    const Uuid uuid = uuid4();
    EXPECT_EQ(uuid.version(), 4);
    EXPECT_EQ(uuid.bytes()[8] & 0xc0, 0x80);  // RFC 4122 variant
    EXPECT_EQ(uuid.toString()[14], '4');
    seen.insert(uuid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(UuidTest, OrdersLikeCanonicalStrings) {
  const Uuid a = mustParse("00000000-0000-0000-0000-0000000000ff");
  const Uuid b = mustParse("00000000-0000-0000-0000-000000000100");
  const Uuid c = mustParse("ff000000-0000-0000-0000-000000000000");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(a, c);
  EXPECT_LT(a.toString(), b.toString());
  std::map<Uuid, int> byUuid{{c, 3}, {a, 1}, {b, 2}};
  EXPECT_EQ(byUuid.begin()->second, 1);
}

TEST(UuidTest, HashesEqualValuesEqually) {
  const Uuid a = mustParse(kOvsNs);
  const Uuid b = mustParse("87EE7D5C73BB11E89008C4D987B2A692");
  EXPECT_EQ(std::hash<Uuid>{}(a), std::hash<Uuid>{}(b));
  EXPECT_NE(std::hash<Uuid>{}(a), std::hash<Uuid>{}(mustParse(kSriovNs)));
  std::unordered_set<Uuid> set{a, b, mustParse(kSriovNs)};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace bwfloor
