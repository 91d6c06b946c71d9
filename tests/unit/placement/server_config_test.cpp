// bwfloor-server's configuration: credentials bound to their owner ([auth] reader_tokens,
// agent_tokens) and the precise errors for entries that are not.
#include "placement/server_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "placement/api/error_status.h"

namespace bwfloor::placement {
namespace {

using ::testing::HasSubstr;

class ServerConfigTest : public ::testing::Test {
 protected:
  Result<ServerConfig> load(const std::string& text) {
    std::ofstream(path_) << text;
    return loadServerConfig(path_);
  }
  ~ServerConfigTest() override { ::unlink(path_.c_str()); }

  // One file per test process: CTest runs the cases in parallel processes (-j), and a shared
  // name let one case read the file another was writing.
  std::string path_ = ::testing::TempDir() + "server_config_test_" + std::to_string(::getpid()) +
                      "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                      ".ini";
};

TEST_F(ServerConfigTest, TokensAreBoundToTheirProjectOrHost) {
  auto config = load(
      "[api]\nauth_strategy = token\n[auth]\nadmin_tokens = a1\n"
      "reader_tokens = projA:r1, projB:r2\nagent_tokens = compute-0:t0,compute-1:t1\n");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->readerTokens.at("r1"), "projA");
  EXPECT_EQ(config->readerTokens.at("r2"), "projB");
  EXPECT_EQ(config->agentTokens.at("t0"), "compute-0");
  EXPECT_EQ(config->agentTokens.at("t1"), "compute-1");
}

TEST_F(ServerConfigTest, AnUnboundOrRepeatedTokenIsRefusedWithItsPlace) {
  auto unbound = load(
      "[api]\nauth_strategy = token\n[auth]\nadmin_tokens = a1\n"
      "agent_tokens = justatoken\n");
  ASSERT_FALSE(unbound);
  EXPECT_THAT(unbound.error().message(), HasSubstr("agent_tokens"));
  EXPECT_THAT(unbound.error().message(), HasSubstr("HOST:TOKEN"));
  auto twice = load(
      "[api]\nauth_strategy = token\n[auth]\nadmin_tokens = a1\n"
      "reader_tokens = p:r1, q:r1\n");
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error().message(), HasSubstr("reader_tokens"));
  EXPECT_THAT(twice.error().message(), HasSubstr("twice"));
}

// [oslo_policy] and [cors]: oslo's names and defaults; a relative policy_file is found next to
// the config file that names it.
TEST_F(ServerConfigTest, PolicyAndCorsOptions) {
  auto defaults = load("[api]\n");
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_FALSE(defaults->enforceScope);
  EXPECT_FALSE(defaults->enforceNewDefaults);
  EXPECT_FALSE(defaults->cors.enabled());
  EXPECT_TRUE(defaults->cors.allowCredentials);
  EXPECT_EQ(defaults->cors.maxAgeSeconds, 3600);
  EXPECT_EQ(defaults->cors.allowMethods.size(), 8u);

  const std::string policy = path_ + ".policy.yaml";
  std::ofstream(policy) << "placement:traits:list: '@'\n";
  const std::string relative = policy.substr(policy.rfind('/') + 1);
  auto set = load("[oslo_policy]\npolicy_file = " + relative +
                  "\nenforce_scope = true\nenforce_new_defaults = True\n"
                  "[cors]\nallowed_origin = https://a.example, https://b.example\n"
                  "allow_credentials = false\nexpose_headers = X-OpenStack-Request-Id\n"
                  "max_age = 60\nallow_methods = GET, PUT\nallow_headers = X-Auth-Token\n");
  ::unlink(policy.c_str());
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->policyFile, policy);
  EXPECT_TRUE(set->enforceScope);
  EXPECT_TRUE(set->enforceNewDefaults);
  EXPECT_EQ(set->cors.allowedOrigins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_FALSE(set->cors.allowCredentials);
  EXPECT_EQ(set->cors.exposeHeaders, std::vector<std::string>{"X-OpenStack-Request-Id"});
  EXPECT_EQ(set->cors.maxAgeSeconds, 60);
  EXPECT_EQ(set->cors.allowMethods, (std::vector<std::string>{"GET", "PUT"}));
  EXPECT_EQ(set->cors.allowHeaders, std::vector<std::string>{"X-Auth-Token"});

  auto missing = load("[oslo_policy]\npolicy_file = /nonexistent/policy.yaml\n");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message(),
              HasSubstr(":2: [oslo_policy] policy_file: '/nonexistent/policy.yaml' is not a file"));
  auto badBool = load("[oslo_policy]\nenforce_scope = maybe\n");
  ASSERT_FALSE(badBool);
  EXPECT_THAT(badBool.error().message(), HasSubstr("enforce_scope"));
}

// The service's error codes and the one table that turns them into HTTP statuses.
TEST(ErrorVocabularyTest, EveryCodeHasItsOwnHttpStatus) {
  const std::vector<std::pair<Errc, int>> expected = {
      {Errc::kInvalid, 400},          {Errc::kUnauthenticated, 401},
      {Errc::kForbidden, 403},        {Errc::kNotFound, 404},
      {Errc::kMethodNotAllowed, 405}, {Errc::kNotAcceptable, 406},
      {Errc::kConflict, 409},         {Errc::kUnsupportedMediaType, 415},
      {Errc::kInternal, 500},         {Errc::kUnavailable, 503},
      {Errc::kTimeout, 504}};
  for (const auto& [errc, status] : expected) {
    EXPECT_EQ(httpStatus(errc), status) << errcName(errc);
  }
}

}  // namespace
}  // namespace bwfloor::placement
