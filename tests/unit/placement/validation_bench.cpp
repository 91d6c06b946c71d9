// Benchmark (figures, not a test): what validating a request against Placement's schemas costs
// (json_schema.h), next to parsing the same body with nlohmann::json (the reference every
// request pays already). Bodies are the writes a compute node and a scheduler send most.
//   build/tests/placement_validation_bench
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>

#include "placement/api/json_schema.h"

namespace {

using bwfloor::placement::python::Value;
namespace schema = bwfloor::placement::schema;

const std::string kAllocation = R"({"allocations": {
  "4e8e5957-649f-477b-9e5b-f1f75b21c03c": {"resources": {"VCPU": 1, "MEMORY_MB": 512}},
  "5f1a2b3c-1111-4222-8333-944455556666": {"resources": {"NET_BW_EGR_KILOBIT_PER_SEC": 1000,
                                                         "NET_BW_IGR_KILOBIT_PER_SEC": 1000}}},
  "project_id": "p", "user_id": "u", "consumer_generation": null})";
const std::string kInventories = R"({"resource_provider_generation": 3, "inventories": {
  "NET_BW_EGR_KILOBIT_PER_SEC": {"total": 10000000, "reserved": 0, "min_unit": 1,
                                 "max_unit": 10000000, "step_size": 1, "allocation_ratio": 1.0},
  "NET_BW_IGR_KILOBIT_PER_SEC": {"total": 10000000, "reserved": 0, "min_unit": 1,
                                 "max_unit": 10000000, "step_size": 1, "allocation_ratio": 1.0}}})";

void parseOnly(benchmark::State& state, const std::string& body) {
  for (auto _ : state) benchmark::DoNotOptimize(nlohmann::json::parse(body));
}

void parseAndValidate(benchmark::State& state, const std::string& body, const char* name) {
  const Value& s = schema::named(name);
  for (auto _ : state) {
    benchmark::DoNotOptimize(nlohmann::json::parse(body));
    benchmark::DoNotOptimize(schema::validate(Value::parse(body), s));
  }
}

BENCHMARK_CAPTURE(parseOnly, allocation, kAllocation);
BENCHMARK_CAPTURE(parseAndValidate, allocation, kAllocation, "allocation.ALLOCATION_SCHEMA_V1_34");
BENCHMARK_CAPTURE(parseOnly, inventories, kInventories);
BENCHMARK_CAPTURE(parseAndValidate, inventories, kInventories, "inventory.PUT_INVENTORY_SCHEMA");

}  // namespace

BENCHMARK_MAIN();
