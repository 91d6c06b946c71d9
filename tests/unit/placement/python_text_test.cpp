// Python's text forms and jsonschema's errors, against strings captured from Debian 12's
// /usr/bin/python3 (3.11, jsonschema 4.10.3, python3-placement 8.0): Placement's clients match
// on these texts, so a one-character drift is a failure here.

#include "placement/api/python_text.h"

#include <gtest/gtest.h>

#include "placement/api/json_schema.h"

namespace bwfloor::placement {
namespace {

using python::Value;

TEST(PythonTextTest, ReprQuotesEscapesAndNumbersAsPython) {
  const Value v = Value::parse(R"({"a": "it's", "b": "say \"hi\"", "c": "\u00e9\n\t\u0001",)"
                               R"( "d": [1.5, 1e16, 0.0001, 1e-05, 3.40282e+38, true, null, -7]})");
  EXPECT_EQ(python::repr(v),
            "{'a': \"it's\", 'b': 'say \"hi\"', 'c': '\xc3\xa9\\n\\t\\x01', 'd': [1.5, 1e+16, "
            "0.0001, 1e-05, 3.40282e+38, True, None, -7]}");
}

TEST(PythonTextTest, PformatSortsAndWrapsAtWidth72) {
  Value v = Value::object();
  v["zeta"] = Value::array();
  for (int i = 0; i < 30; ++i) v["zeta"].push_back(i);
  v["alpha"] = {{"nested", std::string(80, 'x')}};
  std::string want = "{'alpha': {'nested': '" + std::string(80, 'x') + "'},\n 'zeta': [0,\n";
  for (int i = 1; i < 30; ++i) {
    want += "          " + std::to_string(i) + (i == 29 ? "]}" : ",\n");
  }
  EXPECT_EQ(python::pformat(v), want);

  std::string words;
  for (int i = 0; i < 30; ++i) words += "word ";
  EXPECT_EQ(python::pformat(Value(words)),
            "('word word word word word word word word word word word word word '\n"
            " 'word word word word word word word word word word word word word '\n"
            " 'word word word word ')");
}

TEST(PythonTextTest, IntAcceptsWhatPythonAccepts) {
  EXPECT_EQ(python::parseInt(" 12 "), 12);
  EXPECT_EQ(python::parseInt("+7"), 7);
  EXPECT_EQ(python::parseInt("1_000"), 1000);
  EXPECT_EQ(python::parseInt("-0"), 0);
  for (const char* bad : {"1__0", "_1", "0x10", "", "1.0", "1 2"}) {
    EXPECT_FALSE(python::parseInt(bad).has_value()) << bad;
  }
  EXPECT_TRUE(python::intSyntax("99999999999999999999"));  // too big for us, an int to Python
  EXPECT_FALSE(python::parseInt("99999999999999999999").has_value());
  EXPECT_EQ(python::intError("1__0"), "invalid literal for int() with base 10: '1__0'");
}

TEST(JsonSchemaTest, ErrorsReadAsJsonschemaWritesThem) {
  const Value& rpSchema = schema::named("resource_provider.POST_RP_SCHEMA_V1_14");
  // anyOf: best_match descends into the branch whose type matched.
  EXPECT_EQ(
      schema::validate(Value::parse(R"({"name": "a", "parent_provider_uuid": "abc"})"), rpSchema),
      "'abc' is not a 'uuid'\n\nFailed validating 'format' in schema[0]:\n    {'format': "
      "'uuid', 'type': 'string'}\n\nOn instance:\n    'abc'");
  // Placement's own uuid check (oslo's is_uuid_like) takes a uuid without dashes.
  EXPECT_FALSE(schema::validate(
      Value::parse(R"({"name": "a", "uuid": "11111111111111111111111111111111"})"), rpSchema));
  // A boolean is not an integer, and the path names the pattern property.
  EXPECT_EQ(
      schema::validate(Value::parse(R"({"inventories": {"VCPU": {"total": true}},)"
                                    R"( "resource_provider_generation": 0})"),
                       schema::named("inventory.PUT_INVENTORY_SCHEMA")),
      "True is not of type 'integer'\n\nFailed validating 'type' in "
      "schema['properties']['inventories']['patternProperties']['^[A-Z0-9_]+$']['properties']["
      "'total']:\n    {'maximum': 2147483647, 'minimum': 1, 'type': 'integer'}\n\nOn "
      "instance['inventories']['VCPU']['total']:\n    True");
}

}  // namespace
}  // namespace bwfloor::placement
