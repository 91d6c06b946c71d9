// The agent's configuration: Neutron's option grammars (neutron_options.h) and the whole file
// (agent_config.h), every refusal with file:line, section, key and why.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "agent/config/neutron_options.h"

namespace bwfloor::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Parses `text` as agent.ini on a machine named "machine" (hypervisor "machine.example").
Result<AgentConfig> parse(const std::string& text, int* namesCalls = nullptr) {
  auto ini = parseIni(text, "agent.ini");
  if (!ini) return ini.error();
  return parseAgentConfig(*ini, [namesCalls]() -> Result<HostNames> {
    if (namesCalls != nullptr) ++*namesCalls;
    return HostNames{"machine", "machine.example"};
  });
}

std::string errorOf(const std::string& text) {
  auto config = parse(text);
  if (config) return "<accepted>";
  return config.error().message();
}

constexpr const char* kScenario = R"([agent]
host = devstack0

[ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1

[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
)";

TEST(AgentConfigTest, ScenarioConfiguration) {
  auto config = parse(kScenario);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->host, "devstack0");
  EXPECT_EQ(config->ovs.mappings,
            (std::vector<PhysnetMapping>{{"public", "br-ex"}, {"physnet0", "br-test"}}));
  EXPECT_EQ(config->ovs.bandwidths,
            (std::vector<DeviceBandwidth>{
                {"br-test", BandwidthTotal::fixed(1500), BandwidthTotal::fixed(1500)},
                {"br-ex", BandwidthTotal::unreported(), BandwidthTotal::fixed(1)}}));
  EXPECT_EQ(config->sriov.mappings, (std::vector<PhysnetMapping>{{"physnet0", "ens5"}}));
  EXPECT_EQ(config->sriov.bandwidths,
            (std::vector<DeviceBandwidth>{
                {"ens5", BandwidthTotal::fixed(100000), BandwidthTotal::fixed(100000)}}));
  // Neutron's default dict: allocation_ratio:1.0,min_unit:1,step_size:1,reserved:0.
  EXPECT_EQ(config->ovs.inventoryDefaults, (InventoryDefaults{1.0, 1, std::nullopt, 0, 1}));
  EXPECT_EQ(config->ovs.hypervisorFor("br-ex"), "devstack0");
  EXPECT_EQ(config->sriov.hypervisorFor("ens5"), "devstack0");
  EXPECT_EQ(config->integrationBridge, "br-int");
  EXPECT_EQ(config->ovsdbConnection, "unix:/var/run/openvswitch/db.sock");
  EXPECT_EQ(config->reportInterval, std::chrono::seconds(30));
  EXPECT_EQ(config->resyncInterval, std::chrono::seconds(60));
  EXPECT_EQ(config->rootProviderPolicy, RootProviderPolicy::kCreate);
  EXPECT_EQ(config->placementEndpoint, "http://127.0.0.1:8778/placement");
  EXPECT_EQ(config->serverEndpoint, "http://127.0.0.1:8778");
}

TEST(NeutronOptionsTest, BandwidthGrammarAsNeutronLib) {
  // neutron_lib.placement.utils' own example.
  auto bw = parseBandwidths({"eth0:10000:10000", "eth1::10000", "eth2::", "eth3"});
  ASSERT_TRUE(bw) << bw.error().message();
  EXPECT_EQ(*bw, (std::vector<DeviceBandwidth>{
                     {"eth0", BandwidthTotal::fixed(10000), BandwidthTotal::fixed(10000)},
                     {"eth1", BandwidthTotal::unreported(), BandwidthTotal::fixed(10000)},
                     {"eth2", BandwidthTotal::unreported(), BandwidthTotal::unreported()},
                     {"eth3", BandwidthTotal::unreported(), BandwidthTotal::unreported()}}));
}

TEST(NeutronOptionsTest, ZeroIsAcceptedAndAutoTakesTheLinkSpeed) {
  auto bw = parseBandwidths({"eth0:0:0", "ens5:auto:AUTO", "ens6::auto"});
  ASSERT_TRUE(bw) << bw.error().message();
  EXPECT_EQ((*bw)[0].egress, BandwidthTotal::fixed(0));
  EXPECT_EQ((*bw)[1].egress, BandwidthTotal::fromLinkSpeed());
  EXPECT_EQ((*bw)[1].ingress, BandwidthTotal::fromLinkSpeed());
  EXPECT_EQ((*bw)[2].egress, BandwidthTotal::unreported());
  EXPECT_EQ((*bw)[2].ingress, BandwidthTotal::fromLinkSpeed());
}

TEST(NeutronOptionsTest, BandwidthRefusals) {
  const auto why = [](const std::vector<std::string>& items) {
    auto bw = parseBandwidths(items);
    return bw ? std::string("<accepted>") : bw.error().message();
  };
  EXPECT_THAT(why({"eth0:"}), HasSubstr("(3 fields), got 2 in \"eth0:\""));
  EXPECT_THAT(why({"eth0:1:2:3"}), HasSubstr("got 4"));
  EXPECT_THAT(why({":1:2"}), HasSubstr("missing device name"));
  EXPECT_THAT(why({"eth0:1:2", "eth0::3"}), HasSubstr("\"eth0\" is listed more than once"));
  EXPECT_THAT(why({"eth0:-5:1"}),
              HasSubstr("egress of \"eth0:-5:1\": invalid rate \"-5\": negative"));
  EXPECT_THAT(why({"eth0:1:fast"}), HasSubstr("ingress of \"eth0:1:fast\""));
  EXPECT_THAT(why({"eth0:1:fast"}), HasSubstr("not a whole number"));
  EXPECT_THAT(why({"eth0:1.5:1"}), HasSubstr("not a whole number"));
  EXPECT_THAT(why({"eth0:2147483648:1"}), HasSubstr("above 2147483647"));
  EXPECT_EQ(why({"eth0:2147483647:1"}), "<accepted>");
}

TEST(NeutronOptionsTest, MappingRefusals) {
  const auto why = [](const std::vector<std::string>& items, bool uniquePhysnets) {
    auto m = parsePhysnetMappings(items, uniquePhysnets);
    return m ? std::string("<accepted>") : m.error().message();
  };
  EXPECT_THAT(why({"physnet0"}, true), HasSubstr("invalid mapping \"physnet0\""));
  EXPECT_THAT(why({"a:b:c"}, true), HasSubstr("invalid mapping \"a:b:c\""));
  EXPECT_THAT(why({":br-ex"}, true), HasSubstr("missing physnet"));
  EXPECT_THAT(why({"public:"}, true), HasSubstr("missing device"));
  EXPECT_THAT(why({"public:br ex"}, true), HasSubstr("not a valid interface name"));
  EXPECT_THAT(why({"public:br-0123456789abc"}, true), HasSubstr("longer than 15"));
  EXPECT_THAT(why({"physnet0:br-a", "physnet0:br-b"}, true),
              HasSubstr("physnet \"physnet0\" is mapped twice (to br-a and br-b)"));
  EXPECT_THAT(why({"physnet0:br-a", "physnet1:br-a"}, true),
              HasSubstr("device \"br-a\" is mapped to two physnets"));
  EXPECT_THAT(why({"physnet0:br-a", "physnet0:br-a"}, true), HasSubstr("listed more than once"));
  // SR-IOV: several PFs per physnet; an exact repeat is ignored
  // (parse_mappings(unique_keys=False)).
  auto sriov = parsePhysnetMappings({"physnet0:ens5", "physnet0:ens6", "physnet0:ens5"}, false);
  ASSERT_TRUE(sriov);
  EXPECT_EQ(*sriov, (std::vector<PhysnetMapping>{{"physnet0", "ens5"}, {"physnet0", "ens6"}}));
  EXPECT_THAT(why({"physnet0:ens5", "physnet1:ens5"}, false),
              HasSubstr("device \"ens5\" is mapped to two physnets (physnet0 and physnet1)"));
}

TEST(NeutronOptionsTest, InventoryDefaults) {
  auto full = parseInventoryDefaults(
      {"allocation_ratio:1.5", "min_unit:10", "max_unit:1000", "reserved:5", "step_size:2"});
  ASSERT_TRUE(full) << full.error().message();
  EXPECT_EQ(*full, (InventoryDefaults{1.5, 10, 1000, 5, 2}));
  // Setting the option replaces the whole default dict.
  auto partial = parseInventoryDefaults({"min_unit:10"});
  ASSERT_TRUE(partial);
  EXPECT_EQ(*partial,
            (InventoryDefaults{std::nullopt, 10, std::nullopt, std::nullopt, std::nullopt}));
  const auto why = [](const std::vector<std::string>& items) {
    auto d = parseInventoryDefaults(items);
    return d ? std::string("<accepted>") : d.error().message();
  };
  EXPECT_THAT(why({"colour:red"}), HasSubstr("unexpected key \"colour\""));
  EXPECT_THAT(why({"allocation_ratio:-1"}), HasSubstr("allocation_ratio: expected a non-negative"));
  EXPECT_THAT(why({"allocation_ratio:x"}), HasSubstr("allocation_ratio"));
  EXPECT_THAT(why({"reserved:-1"}), HasSubstr("reserved: expected a non-negative integer"));
  EXPECT_THAT(why({"step_size:1.5"}), HasSubstr("step_size"));
  EXPECT_THAT(why({"min_unit"}), HasSubstr("not in key:value format"));
  EXPECT_THAT(why({"min_unit:1", "min_unit:2"}), HasSubstr("listed more than once"));
  EXPECT_THAT(why({"min_unit:10", "max_unit:5"}), HasSubstr("min_unit 10 is above max_unit 5"));
}

TEST(AgentConfigTest, ErrorsNameFileLineSectionKeyAndWhy) {
  EXPECT_EQ(errorOf("[ovs]\nbridge_mappings = physnet0:br-test\n"
                    "resource_provider_bandwidths = br-test:-1:5\n"),
            "agent.ini:3: [ovs] resource_provider_bandwidths: egress of \"br-test:-1:5\": "
            "invalid rate \"-1\": negative, a rate must be >= 0 kbit/s (expected a non-negative "
            "integer of kbit/s, empty or \"auto\")");
  EXPECT_EQ(errorOf("[sriov_nic]\n\nphysical_device_mappings = physnet0:ens5\n"
                    "resource_provider_bandwidths = ens6:1:1\n"),
            "agent.ini:4: [sriov_nic] resource_provider_bandwidths: device \"ens6\" is missing "
            "from [sriov_nic] physical_device_mappings");
}

TEST(AgentConfigTest, UnknownDeviceInBandwidths) {
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = physnet0:br-test\n"
                      "resource_provider_bandwidths = br-ex::1\n"),
              StartsWith("agent.ini:3: [ovs] resource_provider_bandwidths: device \"br-ex\" is "
                         "missing from [ovs] bridge_mappings"));
}

TEST(AgentConfigTest, DuplicatesAndBadSyntaxInTheFile) {
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = physnet0:br-a,physnet0:br-b\n"),
              StartsWith("agent.ini:2: [ovs] bridge_mappings: physnet \"physnet0\" is mapped "
                         "twice"));
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = physnet0:br-a\n"
                      "resource_provider_bandwidths = br-a:1:1,br-a:2:2\n"),
              StartsWith("agent.ini:3: [ovs] resource_provider_bandwidths: device \"br-a\" is "
                         "listed more than once"));
  EXPECT_THAT(errorOf("[sriov_nic]\nphysical_device_mappings = physnet0-ens5\n"),
              StartsWith("agent.ini:2: [sriov_nic] physical_device_mappings: invalid mapping"));
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = p:br-a\n"
                      "resource_provider_inventory_defaults = min_unit:x\n"),
              StartsWith("agent.ini:3: [ovs] resource_provider_inventory_defaults: min_unit"));
}

TEST(AgentConfigTest, Hypervisors) {
  int namesCalls = 0;
  auto config = parse(R"([ovs]
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_hypervisors = br-ex:hv-ex
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_default_hypervisor = hv-sriov
)",
                      &namesCalls);
  ASSERT_TRUE(config) << config.error().message();
  // No [agent] host: the hostname for the host, the libvirt-style name for the hypervisor.
  EXPECT_EQ(config->host, "machine");
  EXPECT_EQ(namesCalls, 1);
  EXPECT_EQ(config->ovs.hypervisorFor("br-ex"), "hv-ex");
  EXPECT_EQ(config->ovs.hypervisorFor("br-test"), "machine.example");
  EXPECT_EQ(config->sriov.hypervisorFor("ens5"), "hv-sriov");

  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = p:br-a\nresource_provider_hypervisors = br-b:x\n"),
              StartsWith("agent.ini:3: [ovs] resource_provider_hypervisors: device \"br-b\" is "
                         "missing from [ovs] bridge_mappings"));
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = p:br-a\n"
                      "resource_provider_hypervisors = br-a:h:x\n"),
              HasSubstr("contains ':'"));
  EXPECT_THAT(errorOf("[ovs]\nbridge_mappings = p:br-a\n"
                      "resource_provider_default_hypervisor = a:b\n"),
              StartsWith("agent.ini:3: [ovs] resource_provider_default_hypervisor: hypervisor "
                         "name \"a:b\" contains ':'"));
  EXPECT_THAT(errorOf("[agent]\nhost = a:b\n"), StartsWith("agent.ini:2: [agent] host:"));
}

TEST(AgentConfigTest, HostFromTheFileIsTheDefaultHypervisorAndNeedsNoLookup) {
  int namesCalls = 0;
  auto config =
      parse("[DEFAULT]\nhost = devstack0\n[ovs]\nbridge_mappings = p:br-a\n", &namesCalls);
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->host, "devstack0");
  EXPECT_EQ(config->ovs.hypervisorFor("br-a"), "devstack0");
  EXPECT_EQ(namesCalls, 0);
}

TEST(AgentConfigTest, AgentSectionOptions) {
  auto config = parse(R"([agent]
host = h
report_interval = 5
resync_interval = 2
root_provider = wait
server_endpoint = http://10.0.0.1:9000
[placement]
endpoint = http://10.0.0.2:8778/placement
token = secret
[ovs]
integration_bridge = br-int2
ovsdb_connection = tcp:127.0.0.1:6640
)");
  ASSERT_TRUE(config) << config.error().message();
  EXPECT_EQ(config->reportInterval, std::chrono::seconds(5));
  EXPECT_EQ(config->resyncInterval, std::chrono::seconds(2));
  EXPECT_EQ(config->rootProviderPolicy, RootProviderPolicy::kWait);
  EXPECT_EQ(config->serverEndpoint, "http://10.0.0.1:9000");
  EXPECT_EQ(config->placementEndpoint, "http://10.0.0.2:8778/placement");
  EXPECT_EQ(config->placementToken, "secret");
  EXPECT_EQ(config->integrationBridge, "br-int2");
  EXPECT_EQ(config->ovsdbConnection, "tcp:127.0.0.1:6640");

  // The server defaults to the placement endpoint's scheme://host:port.
  auto derived =
      parse("[agent]\nhost = h\n[placement]\nendpoint = http://10.0.0.2:8778/placement\n");
  ASSERT_TRUE(derived);
  EXPECT_EQ(derived->serverEndpoint, "http://10.0.0.2:8778");

  EXPECT_THAT(errorOf("[agent]\nhost = h\nreport_interval = 0\n"),
              StartsWith("agent.ini:3: [agent] report_interval:"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\nresync_interval = soon\n"),
              StartsWith("agent.ini:3: [agent] resync_interval: expected an integer"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\nroot_provider = maybe\n"),
              StartsWith("agent.ini:3: [agent] root_provider: expected \"create\" or \"wait\""));
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[placement]\nendpoint = ftp://x/placement\n"),
              StartsWith("agent.ini:4: [placement] endpoint:"));
  // HTTPS: the server endpoint follows placement's scheme; the CA file must be readable.
  auto https = parse("[agent]\nhost = h\n[placement]\nendpoint = https://x/placement\n");
  ASSERT_TRUE(https) << https.error().message();
  EXPECT_EQ(https->serverEndpoint, "https://x:443");
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[placement]\ncafile = /nonexistent/ca.pem\n"),
              StartsWith("agent.ini:4: [placement] cafile: cannot read /nonexistent/ca.pem"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\nserver_endpoint = x\n"),
              StartsWith("agent.ini:3: [agent] server_endpoint:"));
  EXPECT_THAT(errorOf("[DEFAULT]\nlog_level = loud\n[agent]\nhost = h\n"),
              StartsWith("agent.ini:2: [DEFAULT] log_level:"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\nstatus_socket = run/agent.sock\n"),
              StartsWith("agent.ini:3: [agent] status_socket: expected an absolute path"));
  for (const char* bad : {"9325", "localhost:", "::1:9325", "h:0", "h:65536", "h:9x", "[]:1"}) {
    EXPECT_THAT(errorOf(std::string("[agent]\nhost = h\nmetrics_listen = ") + bad + "\n"),
                StartsWith("agent.ini:3: [agent] metrics_listen: expected HOST:PORT"))
        << bad;
  }
  auto metrics = parse("[agent]\nhost = h\nmetrics_listen = [::1]:9400\n");
  ASSERT_TRUE(metrics) << metrics.error().message();
  EXPECT_EQ(metrics->metricsHost, "::1");
  EXPECT_EQ(metrics->metricsPort, 9400);
  auto off = parse("[agent]\nhost = h\nmetrics_listen =\n");
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_EQ(off->metricsPort, 0);
  auto byDefault = parse("[agent]\nhost = h\n");
  ASSERT_TRUE(byDefault) << byDefault.error().message();
  EXPECT_EQ(byDefault->metricsHost, "127.0.0.1");
  EXPECT_EQ(byDefault->metricsPort, kDefaultMetricsPort);
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nqos_backend = tc\n"),
              StartsWith("agent.ini:4: [ovs] qos_backend: expected \"htb\" or \"ovs\""));
}

TEST(AgentConfigTest, OvsOptions) {
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nbridge_mappings = physnet0:br-int\n"),
              StartsWith("agent.ini:4: [ovs] bridge_mappings: physnet \"physnet0\" is mapped to "
                         "the integration bridge br-int"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\novsdb_connection = ssl:1.2.3.4:6640\n"),
              StartsWith("agent.ini:4: [ovs] ovsdb_connection: expected unix:PATH or tcp:"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nintegration_bridge = br/int\n"),
              StartsWith("agent.ini:4: [ovs] integration_bridge:"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nuserspace_datapath_max_kbps = fast\n"),
              StartsWith("agent.ini:4: [ovs] userspace_datapath_max_kbps:"));
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nuserspace_datapath_max_kbps = -1\n"),
              StartsWith("agent.ini:4: [ovs] userspace_datapath_max_kbps:"));
}

TEST(AgentConfigTest, UserspaceDatapathLimitDefaultsToWhatWasMeasuredAndCanBeSet) {
  EXPECT_EQ(parse("[agent]\nhost = h\n")->ovsUserspaceMax, Kbps(300000));
  EXPECT_EQ(
      parse("[agent]\nhost = h\n[ovs]\nuserspace_datapath_max_kbps = 2000000\n")->ovsUserspaceMax,
      Kbps(2000000));
  EXPECT_EQ(parse("[agent]\nhost = h\n[ovs]\nuserspace_datapath_max_kbps = 0\n")->ovsUserspaceMax,
            Kbps(0));
}

TEST(AgentConfigTest, PhysnetsWhoseTraitsCollideAreRefused) {
  EXPECT_THAT(errorOf("[agent]\nhost = h\n[ovs]\nbridge_mappings = physnet0:br-a\n"
                      "[sriov_nic]\nphysical_device_mappings = Physnet0:ens5\n"),
              StartsWith("agent.ini:6: [sriov_nic] physical_device_mappings: physnets "
                         "\"physnet0\" and \"Physnet0\" both normalise to trait "
                         "CUSTOM_PHYSNET_PHYSNET0"));
}

TEST(AgentConfigTest, UnreadableFile) {
  auto config = loadAgentConfig("/nonexistent/agent.ini");
  ASSERT_FALSE(config);
  EXPECT_THAT(config.error().message(), HasSubstr("/nonexistent/agent.ini"));
}

}  // namespace
}  // namespace bwfloor::agent
