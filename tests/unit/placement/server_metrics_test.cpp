// bwfloor-server's /metrics and /healthcheck over a model and a PortsService in memory: the
// route label keeps ids out, the gauges say what the model holds, requests are counted by route
// and status, and the healthcheck answers as oslo.middleware's does.
#include "placement/server_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace bwfloor::placement {
namespace {

using ::testing::HasSubstr;

TEST(ServerMetricsTest, RouteTemplatesHideIds) {
  EXPECT_EQ(routeTemplate("/placement/resource_providers/1b4e/inventories/VCPU?x=1"),
            "/placement/resource_providers/{id}/inventories/{id}");
  EXPECT_EQ(routeTemplate("/placement/allocation_candidates?resources=VCPU:1"),
            "/placement/allocation_candidates");
  EXPECT_EQ(routeTemplate("/v1/hosts/compute1/bindings"), "/v1/hosts/{id}/bindings");
  EXPECT_EQ(routeTemplate("/v1/qos/policies/p/rules/r"), "/v1/qos/policies/{id}/rules/{id}");
  EXPECT_EQ(routeTemplate("/"), "/");
  EXPECT_EQ(routeTemplate("/placement/"), "/placement/");
}

TEST(ServerMetricsTest, GaugesCountersAndHealth) {
  PlacementModel model(std::make_shared<MemoryStore>());
  ASSERT_TRUE(model.load());
  ports::PortsService ports(model, std::make_shared<ports::MemoryJsonStore>());
  ASSERT_TRUE(ports.load());
  std::optional<std::string> stale;
  ServerMetrics metrics(model, ports, [&] { return stale; });

  auto p = model.createProvider("compute0:br-test", std::nullopt, std::nullopt);
  ASSERT_TRUE(p);
  Inventory inv;
  inv.total = 10000;
  inv.reserved = 1000;
  ASSERT_TRUE(model.setInventories(p->uuid, p->generation, {{"NET_BW_EGR_KILOBIT_PER_SEC", inv}}));
  AllocationWrite w;
  w.consumerUuid = "c1";
  w.allocations[p->uuid]["NET_BW_EGR_KILOBIT_PER_SEC"] = 2500;
  w.projectId = w.userId = "x";
  ASSERT_TRUE(model.writeAllocations({w}));
  metrics.observeRequest("GET", "/placement/resource_providers/" + p->uuid, 200, 0.002);
  metrics.observeRequest("GET", "/placement/resource_providers/" + p->uuid, 200, 0.003);
  metrics.observeRequest("PUT", "/placement/allocations/c1", 409, 0.010);

  const std::string text = metrics.metrics().body;
  EXPECT_THAT(text, HasSubstr("bwfloor_resource_providers 1\n"));
  EXPECT_THAT(text,
              HasSubstr("bwfloor_resource_capacity{resource_class=\"NET_BW_EGR_KILOBIT_PER_SEC\"}"
                        " 9000\n"));
  EXPECT_THAT(text,
              HasSubstr("bwfloor_resource_usage{resource_class=\"NET_BW_EGR_KILOBIT_PER_SEC\"}"
                        " 2500\n"));
  EXPECT_THAT(text, HasSubstr("bwfloor_consumers 1\n"));
  EXPECT_THAT(text, HasSubstr("bwfloor_http_requests_total{method=\"GET\",route=\"/placement/"
                              "resource_providers/{id}\",code=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("bwfloor_http_requests_total{method=\"PUT\",route=\"/placement/"
                              "allocations/{id}\",code=\"409\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("bwfloor_store_commit_seconds_count 3\n"))
      << "provider, inventory and allocation writes";
  EXPECT_THAT(text, HasSubstr("bwfloor_agents{state=\"alive\"} 0\n"));

  http::Request get;
  get.method = "GET";
  get.path = "/healthcheck";
  EXPECT_EQ(metrics.healthcheck(get).status, 200);
  EXPECT_EQ(metrics.healthcheck(get).body, "OK");
  http::Request head = get;
  head.method = "HEAD";
  EXPECT_EQ(metrics.healthcheck(head).status, 204);
  stale = "behind the database";
  EXPECT_EQ(metrics.healthcheck(get).status, 503);
  EXPECT_EQ(metrics.healthcheck(get).body, "behind the database");
}

}  // namespace
}  // namespace bwfloor::placement
