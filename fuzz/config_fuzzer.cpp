// config_fuzzer: the INI configuration loaders, on the input as file text.
//
// Feeds: core/ini.h's parseIni; on a parsed file, every typed getter (string, list, int, bool,
// seconds) on every key, the agent's parseAgentConfig (agent/config/agent_config.h, with fixed
// machine names: no DNS) and through it neutron_options.h's value grammars; the server's
// loadServerConfig (placement/server_config.h, which only takes a path: the input is written to a
// memfd and read back through /proc/self/fd), then, as bwfloor-server does at start-up, its log
// level and database URL (parseLogLevel, sqlitePathFromConnection, postgresConninfoFromConnection);
// the unknown-key report after the agent's parse (IniFile::unknownKeys); and the same bytes as a
// change-log entry another replica wrote (decodeStoreChanges); the same bytes as an oslo.policy
// file and check string (placement/policy/policy.h), enforced over Placement's defaults.
// Asserts: no crash and no sanitizer report (an error Result is a fine answer); an error has a
// message; a loaded agent config has a server endpoint and a default hypervisor for both device
// sections ("never empty", agent_config.h); a loaded server config is valid by
// validateServerConfig and its port and thread count are in range.

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/config/agent_config.h"
#include "core/ini.h"
#include "core/logging.h"
#include "placement/policy/policy.h"
#include "placement/server_config.h"
#include "placement/store/change_codec.h"
#include "placement/store/pg_connection.h"
#include "placement/store/sqlite_store.h"

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\nconfig_fuzzer: %s\n", what.c_str());
  std::abort();
}

template <typename T>
void expectMessage(const bwfloor::Result<T>& r, const char* what) {
  if (!r && r.error().message().empty()) fail(std::string(what) + ": an error without a message");
}

void exerciseGetters(const bwfloor::IniFile& ini) {
  for (const auto& section : ini.sections()) {
    for (const auto& entry : section.entries) {
      (void)ini.getString(section.name, entry.key);
      (void)ini.getList(section.name, entry.key);
      expectMessage(ini.getInt(section.name, entry.key, 0, -1000, 1000), "getInt");
      expectMessage(ini.getBool(section.name, entry.key, false), "getBool");
      expectMessage(ini.getSeconds(section.name, entry.key, std::chrono::seconds(1)), "getSeconds");
      (void)ini.locate(section.name, entry.key).toString();
    }
  }
}

void agentConfig(const bwfloor::IniFile& ini) {
  auto names = [] {
    return bwfloor::Result<bwfloor::agent::HostNames>(
        bwfloor::agent::HostNames{"fuzzhost", "fuzzhost.example.org"});
  };
  auto config = bwfloor::agent::parseAgentConfig(ini, names);
  expectMessage(config, "parseAgentConfig");
  if (!config) return;
  if (config->serverEndpoint.empty()) fail("agent config: empty server endpoint");
  if (config->ovs.defaultHypervisor.empty() || config->sriov.defaultHypervisor.empty()) {
    fail("agent config: empty default hypervisor");
  }
  (void)bwfloor::parseLogLevel(config->logLevel);
}

// loadServerConfig reads a path: the input goes to one memfd, rewritten for every input.
void serverConfig(std::string_view text) {
  static const int fd = memfd_create("config_fuzzer.ini", MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create failed");
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    fail("writing the memfd failed");
  }
  auto config = bwfloor::placement::loadServerConfig("/proc/self/fd/" + std::to_string(fd));
  expectMessage(config, "loadServerConfig");
  if (!config) return;
  if (!bwfloor::placement::validateServerConfig(*config)) fail("server config: loaded but invalid");
  if (config->bindPort < 0 || config->bindPort > 65535 || config->threads < 1 ||
      config->threads > 64) {
    fail("server config: port or threads out of range");
  }
  if (config->tlsCertFile.empty() != config->tlsKeyFile.empty()) {
    fail("server config: [ssl] cert_file without key_file (or the reverse) was accepted");
  }
  (void)bwfloor::parseLogLevel(config->logLevel);
  (void)bwfloor::placement::sqlitePathFromConnection(config->databaseConnection);
  auto postgres = bwfloor::placement::postgresConninfoFromConnection(config->databaseConnection);
  expectMessage(postgres, "postgresConninfoFromConnection");
  // A password never reaches a message.
  if (!postgres) {
    const std::string masked =
        bwfloor::placement::maskConnectionPassword(config->databaseConnection);
    if (masked != config->databaseConnection &&
        postgres.error().message().find(config->databaseConnection) != std::string::npos) {
      fail("postgresConninfoFromConnection: the error shows the unmasked connection");
    }
  }
}

// The same bytes as an oslo.policy file (YAML or JSON, through yaml-cpp) and as one check
// string: parsed, built into an enforcer over Placement's defaults, and every rule evaluated for
// a system admin and a project reader (the file can make rules reference each other).
void policyFile(std::string_view text) {
  namespace policy = bwfloor::placement::policy;
  expectMessage(policy::parseCheckString(text, "fuzz"), "parseCheckString");
  static const int fd = memfd_create("config_fuzzer.yaml", MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create failed");
  if (ftruncate(fd, 0) != 0 ||
      pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    fail("writing the memfd failed");
  }
  auto rules = policy::loadPolicyFile("/proc/self/fd/" + std::to_string(fd));
  expectMessage(rules, "loadPolicyFile");
  if (!rules) return;
  for (const bool newDefaults : {false, true}) {
    auto enforcer =
        policy::Enforcer::create({.enforceScope = newDefaults, .enforceNewDefaults = newDefaults},
                                 policy::placementDefaults(), *rules, "fuzz.yaml");
    expectMessage(enforcer, "Enforcer::create");
    if (!enforcer) continue;
    const policy::Credentials admin{{"admin", "member", "reader"},
                                    {{"system_scope", "all"}, {"project_id", std::nullopt}}};
    const policy::Credentials reader{{"reader"}, {{"project_id", "p"}, {"user_id", "u"}}};
    for (const auto& [name, check] : *rules) {
      for (const auto* creds : {&admin, &reader}) {
        (void)(*enforcer)->enforce(name, {{"project_id", "p"}}, *creds);
      }
    }
    for (const auto& rule : policy::placementDefaults()) {
      (void)(*enforcer)->enforce(rule.name, {{"project_id", "p"}}, reader);
    }
  }
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's name
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  bwfloor::LogOptions quiet;
  quiet.level = spdlog::level::off;
  bwfloor::initLogging(quiet);
  return 0;
}

// NOLINTNEXTLINE(readability-identifier-naming): libFuzzer's name
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ini = bwfloor::parseIni(text, "fuzz.ini");
  expectMessage(ini, "parseIni");
  if (ini) {
    agentConfig(*ini);
    // What the agent did not ask for (before the getters below ask for every key).
    for (const auto& unknown : ini->unknownKeys()) {
      if (bwfloor::describeUnknownKey(unknown, "fuzz").empty()) std::abort();
    }
    exerciseGetters(*ini);
  }
  serverConfig(text);
  policyFile(text);
  // Text another replica wrote to the change log: decoded, or an error with a message.
  expectMessage(bwfloor::placement::decodeStoreChanges(std::string(text)), "decodeStoreChanges");
  return 0;
}
