#include "core/ini.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

namespace bwfloor {
namespace {

constexpr const char* kFile = "/etc/bwfloor/agent.ini";

IniFile mustParse(std::string_view text) {
  auto ini = parseIni(text, kFile);
  EXPECT_TRUE(ini.has_value()) << ini.error();
  return ini.has_value() ? std::move(ini).value() : IniFile();
}

void expectParseError(std::string_view text, const std::string& message) {
  const auto ini = parseIni(text, kFile);
  ASSERT_FALSE(ini.has_value()) << text;
  EXPECT_EQ(ini.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ini.error().message(), message);
}

constexpr std::string_view kAgentIni = R"(# bwfloor agent
[DEFAULT]
debug = true
; oslo-style comment

[ovs]
bridge_mappings = physnet0:br-ex, physnet1:br-eth1
resource_provider_bandwidths: br-ex:1000000:1000000
  # an indented comment is still a comment
integration_bridge="br-int"
of_listen_address = 'a b'
empty =

[agent]
report_interval = 30
extensions = qos,
    fdb
polling_interval  =  2  # not a comment: oslo keeps it
)";

TEST(IniTest, ParsesAgentFile) {
  const IniFile ini = mustParse(kAgentIni);
  EXPECT_EQ(ini.fileName(), kFile);
  ASSERT_EQ(ini.sections().size(), 3u);
  EXPECT_EQ(ini.sections()[0].name, "DEFAULT");
  EXPECT_EQ(ini.sections()[1].name, "ovs");
  EXPECT_EQ(ini.sections()[1].line, 6);
  EXPECT_EQ(ini.sections()[2].name, "agent");

  const auto mappings = ini.get("ovs", "bridge_mappings");
  ASSERT_TRUE(mappings.has_value());
  EXPECT_EQ(mappings->value, "physnet0:br-ex, physnet1:br-eth1");
  EXPECT_EQ(mappings->line, 7);
  EXPECT_EQ(ini.get("ovs", "resource_provider_bandwidths")->value, "br-ex:1000000:1000000");
  EXPECT_EQ(ini.get("ovs", "integration_bridge")->value, "br-int");
  EXPECT_EQ(ini.get("ovs", "of_listen_address")->value, "a b");
  EXPECT_EQ(ini.get("ovs", "empty")->value, "");
  EXPECT_EQ(ini.get("DEFAULT", "debug")->line, 3);
  EXPECT_EQ(ini.get("agent", "extensions")->value, "qos,\nfdb");
  EXPECT_EQ(ini.get("agent", "polling_interval")->value, "2  # not a comment: oslo keeps it");
  EXPECT_FALSE(ini.get("ovs", "missing").has_value());
  EXPECT_FALSE(ini.get("nosuch", "debug").has_value());
  EXPECT_TRUE(ini.has("agent", "report_interval"));
  // [DEFAULT] is not a fallback for other sections (oslo.config, not configparser).
  EXPECT_FALSE(ini.has("ovs", "debug"));
}

TEST(IniTest, EntriesKeepFileOrder) {
  const IniFile ini = mustParse("[s]\nb = 1\na = 2\nc = 3\n");
  const auto& entries = ini.section("s")->entries;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "b");
  EXPECT_EQ(entries[1].key, "a");
  EXPECT_EQ(entries[2].key, "c");
  EXPECT_EQ(entries[2].line, 4);
}

TEST(IniTest, ContinuationLines) {
  const IniFile ini = mustParse(
      "[s]\n"
      "multi = one\n"
      "  two\n"
      "\tthree\n"
      "\n"
      "  after_blank = x\n"  // a blank line ended the value, so this is a key again
      "starts_empty =\n"
      "    first\n");
  EXPECT_EQ(ini.get("s", "multi")->value, "one\ntwo\nthree");
  EXPECT_EQ(ini.get("s", "after_blank")->value, "x");
  EXPECT_EQ(ini.get("s", "after_blank")->line, 6);
  EXPECT_EQ(ini.get("s", "starts_empty")->value, "first");
}

TEST(IniTest, SplitsAtFirstSeparatorAndHandlesCrlfAndBom) {
  const IniFile ini = mustParse("\xEF\xBB\xBF[s]\r\nurl = http://host:80/x\r\nmap: a=b\r\n");
  EXPECT_EQ(ini.get("s", "url")->value, "http://host:80/x");
  EXPECT_EQ(ini.get("s", "map")->value, "a=b");
  EXPECT_EQ(ini.get("s", "map")->line, 3);
}

TEST(IniTest, RepeatedSectionContinues) {
  const IniFile ini = mustParse("[a]\nx = 1\n[b]\ny = 2\n[a]\nz = 3\n");
  ASSERT_EQ(ini.sections().size(), 2u);
  EXPECT_EQ(ini.get("a", "z")->value, "3");
  EXPECT_EQ(ini.section("a")->entries.size(), 2u);
}

TEST(IniTest, EmptyTextIsEmptyFile) {
  EXPECT_TRUE(mustParse("").sections().empty());
  EXPECT_TRUE(mustParse("# only\n\n; comments\n").sections().empty());
}

TEST(IniTest, KeyOutsideSection) {
  expectParseError("# header\ndebug = true\n[DEFAULT]\n",
                   "/etc/bwfloor/agent.ini:2: key \"debug\" comes before any [section] header");
}

TEST(IniTest, MalformedSectionHeaders) {
  expectParseError("[ovs]\nx = 1\n[agent\n",
                   "/etc/bwfloor/agent.ini:3: malformed section header \"[agent\": missing "
                   "closing ']'");
  expectParseError("[ ]\n", "/etc/bwfloor/agent.ini:1: empty section name in \"[ ]\"");
  expectParseError("[a]b]\n",
                   "/etc/bwfloor/agent.ini:1: malformed section header \"[a]b]\": nested brackets");
}

TEST(IniTest, LineWithoutSeparator) {
  expectParseError("[ovs]\n\nbridge_mappings physnet0\n",
                   "/etc/bwfloor/agent.ini:3: expected \"key = value\", \"[section]\" or a "
                   "comment, got \"bridge_mappings physnet0\"");
}

TEST(IniTest, EmptyKey) {
  expectParseError("[ovs]\n = 5\n", "/etc/bwfloor/agent.ini:2: empty key in \"= 5\"");
}

TEST(IniTest, DuplicateKeyNamesBothLines) {
  expectParseError("[ovs]\nbridge_mappings = a\n[agent]\nx = 1\n[ovs]\nbridge_mappings: b\n",
                   "/etc/bwfloor/agent.ini:6: [ovs] bridge_mappings: duplicate key (first set on "
                   "line 2)");
  // The same key in different sections is fine.
  EXPECT_TRUE(parseIni("[a]\nk = 1\n[b]\nk = 2\n", kFile).has_value());
}

TEST(IniTest, ErrorAtNamesLocation) {
  const IniFile ini = mustParse(kAgentIni);
  const Error present = ini.errorAt("ovs", "resource_provider_bandwidths", "unknown bridge br-ex");
  EXPECT_EQ(present.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(present.message(),
            "/etc/bwfloor/agent.ini:8: [ovs] resource_provider_bandwidths: unknown bridge br-ex");
  EXPECT_EQ(ini.errorAt("sriov", "physical_device_mappings", "required").message(),
            "/etc/bwfloor/agent.ini: [sriov] physical_device_mappings: required");
  const IniLocation where = ini.locate("agent", "report_interval");
  EXPECT_EQ(where.line, 15);
  EXPECT_EQ(where.toString(), "/etc/bwfloor/agent.ini:15: [agent] report_interval");
}

TEST(IniTest, StringGetters) {
  const IniFile ini = mustParse("[s]\nname = bwfloor\nlist = a, b,,c ,\n");
  EXPECT_EQ(ini.getString("s", "name"), "bwfloor");
  EXPECT_EQ(ini.getString("s", "missing", "dflt"), "dflt");
  EXPECT_EQ(ini.requireString("s", "name").value(), "bwfloor");
  const auto missing = ini.requireString("s", "host");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(),
            "/etc/bwfloor/agent.ini: [s] host: required option is missing");
  EXPECT_EQ(ini.getList("s", "list"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(ini.getList("s", "missing").empty());
}

TEST(IniTest, GetInt) {
  const IniFile ini =
      mustParse("[s]\nn = 42\nneg = -7\nword = many\nbig = 99999999999999999999\nfrac = 1.5\n");
  EXPECT_EQ(ini.getInt("s", "n", 0).value(), 42);
  EXPECT_EQ(ini.getInt("s", "neg", 0).value(), -7);
  EXPECT_EQ(ini.getInt("s", "missing", 9).value(), 9);
  EXPECT_EQ(ini.getInt("s", "word", 0).error().message(),
            "/etc/bwfloor/agent.ini:4: [s] word: expected an integer, got \"many\"");
  EXPECT_EQ(ini.getInt("s", "frac", 0).error().message(),
            "/etc/bwfloor/agent.ini:6: [s] frac: expected an integer, got \"1.5\"");
  EXPECT_EQ(ini.getInt("s", "big", 0).error().message(),
            "/etc/bwfloor/agent.ini:5: [s] big: \"99999999999999999999\" is out of range for a "
            "64-bit integer");
  EXPECT_EQ(ini.getInt("s", "n", 0, 1, 10).error().message(),
            "/etc/bwfloor/agent.ini:2: [s] n: must be between 1 and 10, got 42");
  EXPECT_EQ(ini.getInt("s", "neg", 0, 0).error().message(),
            "/etc/bwfloor/agent.ini:3: [s] neg: must be >= 0, got -7");
  EXPECT_EQ(ini.getInt("s", "n", 0, std::numeric_limits<int64_t>::min(), 10).error().message(),
            "/etc/bwfloor/agent.ini:2: [s] n: must be <= 10, got 42");
}

TEST(IniTest, GetBool) {
  const IniFile ini = mustParse(
      "[s]\na = true\nb = No\nc = ON\nd = 0\ne = yes\nf = off\ng = 1\nh = False\nbad = maybe\n");
  for (const char* key : {"a", "c", "e", "g"})
    EXPECT_TRUE(ini.getBool("s", key, false).value()) << key;
  for (const char* key : {"b", "d", "f", "h"})
    EXPECT_FALSE(ini.getBool("s", key, true).value()) << key;
  EXPECT_TRUE(ini.getBool("s", "missing", true).value());
  EXPECT_EQ(ini.getBool("s", "bad", false).error().message(),
            "/etc/bwfloor/agent.ini:10: [s] bad: expected true/false, yes/no, on/off or 1/0, got "
            "\"maybe\"");
}

TEST(IniTest, GetSeconds) {
  const IniFile ini = mustParse("[agent]\nreport_interval = 30\nback = -1\n");
  EXPECT_EQ(ini.getSeconds("agent", "report_interval", std::chrono::seconds(5)).value(),
            std::chrono::seconds(30));
  EXPECT_EQ(ini.getSeconds("agent", "missing", std::chrono::seconds(5)).value(),
            std::chrono::seconds(5));
  EXPECT_EQ(ini.getSeconds("agent", "back", std::chrono::seconds(5)).error().message(),
            "/etc/bwfloor/agent.ini:3: [agent] back: must be >= 0, got -1");
}

class IniFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "ini_test_" + std::to_string(::getpid()) + ".ini";
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::string path_;
};

TEST_F(IniFileTest, LoadsFromDisk) {
  std::ofstream(path_) << "[ovs]\n\nbridge_mappings = physnet0:br-ex\n";
  const auto ini = loadIni(path_);
  ASSERT_TRUE(ini.has_value()) << ini.error();
  EXPECT_EQ(ini->fileName(), path_);
  EXPECT_EQ(ini->errorAt("ovs", "bridge_mappings", "bad").message(),
            path_ + ":3: [ovs] bridge_mappings: bad");
}

// Issue 17: Neutron operators pass --config-file neutron.conf --config-file openvswitch_agent.ini.
TEST_F(IniFileTest, SeveralFilesMergeInOrderAndKeepTheirLines) {
  const std::string second = path_ + ".2";
  std::ofstream(path_) << "[DEFAULT]\nhost = from-first\ndebug = false\n[database]\nx = 1\n";
  std::ofstream(second) << "[ovs]\nbridge_mappings = physnet0:br-ex\n[DEFAULT]\n\ndebug = true\n";
  const auto ini = loadIniFiles({path_, second});
  std::remove(second.c_str());
  ASSERT_TRUE(ini.has_value()) << ini.error();
  EXPECT_EQ(ini->getString("DEFAULT", "host"), "from-first");
  EXPECT_EQ(ini->getString("DEFAULT", "debug"), "true") << "the later file wins";
  EXPECT_EQ(ini->errorAt("DEFAULT", "debug", "bad").message(), second + ":5: [DEFAULT] debug: bad");
  EXPECT_EQ(ini->errorAt("DEFAULT", "host", "bad").message(), path_ + ":2: [DEFAULT] host: bad");
  EXPECT_EQ(ini->errorAt("ovs", "bridge_mappings", "bad").message(),
            second + ":2: [ovs] bridge_mappings: bad");
  EXPECT_FALSE(loadIniFiles({path_, second + ".absent"})) << "a missing file is an error";
}

TEST(IniTest, UnknownKeysNameTheirLineAndTheClosestKnownKey) {
  const IniFile ini = mustParse(
      "[ovs]\nresource_provider_bandwidth = br-test:1:1\nbridge_mappings = a:b\n"
      "zzz_unrelated = 1\n[database]\nconnection = mysql://\n");
  (void)ini.getString("ovs", "resource_provider_bandwidths");
  (void)ini.getString("ovs", "bridge_mappings");
  const auto unknown = ini.unknownKeys();
  ASSERT_EQ(unknown.size(), 2U) << "[database] is a section this reader never consults";
  EXPECT_EQ(describeUnknownKey(unknown[0], "bwfloor-agent"),
            std::string(kFile) +
                ":2: [ovs] resource_provider_bandwidth: not an option "
                "bwfloor-agent reads (did you mean resource_provider_bandwidths?)");
  EXPECT_EQ(describeUnknownKey(unknown[1], "bwfloor-agent"),
            std::string(kFile) + ":4: [ovs] zzz_unrelated: not an option bwfloor-agent reads");
}

TEST_F(IniFileTest, ParseErrorsNameThePath) {
  std::ofstream(path_) << "[ovs\n";
  const auto ini = loadIni(path_);
  ASSERT_FALSE(ini.has_value());
  EXPECT_EQ(ini.error().message(),
            path_ + ":1: malformed section header \"[ovs\": missing closing ']'");
}

TEST_F(IniFileTest, MissingFileReportsErrno) {
  const auto ini = loadIni(path_ + ".absent");
  ASSERT_FALSE(ini.has_value());
  EXPECT_EQ(ini.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ini.error().sysErrno(), ENOENT);
  EXPECT_EQ(ini.error().toString(),
            "cannot read " + path_ + ".absent (errno 2: No such file or directory)");
}

TEST_F(IniFileTest, DirectoryReportsErrno) {
  const auto ini = loadIni(::testing::TempDir());
  ASSERT_FALSE(ini.has_value());
  EXPECT_EQ(ini.error().sysErrno(), EISDIR);
  EXPECT_EQ(ini.error().message(), "cannot read " + ::testing::TempDir());
}

}  // namespace
}  // namespace bwfloor
