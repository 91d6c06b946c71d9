#!/usr/bin/env python3
"""Writes fuzz/corpus/http_request_fuzzer/: raw HTTP requests against the fuzzer's fixture.

Each seed is one file of bytes exactly as a client sends them (CRLF, Content-Length computed
here); a multi-request seed joins requests with the harness's separator line. The uuids, names
and generations are the fixture's (fuzz/http_world.cpp); bodies follow the unit tests
(tests/unit/placement/) and what the OpenStack clients send. Check a change with
  BWFLOOR_FUZZ_VERBOSE=1 build-fuzz/bin/http_request_fuzzer fuzz/corpus/http_request_fuzzer/*
which prints every request's status.

Usage: fuzz/tools/make_http_seeds.py [OUTDIR]   (default: fuzz/corpus/http_request_fuzzer)
"""

import json
import os
import sys

COMPUTE0 = "11111111-1111-4111-8111-111111111111"
BRIDGE = "22222222-2222-4222-8222-222222222222"
SRIOV = "33333333-3333-4333-8333-333333333333"
COMPUTE1 = "44444444-4444-4444-8444-444444444444"
SHARED = "55555555-5555-4555-8555-555555555555"
NEW_RP = "66666666-6666-4666-8666-666666666666"
CONSUMER = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
NEW_CONSUMER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
AGGREGATE = "99999999-9999-4999-8999-999999999999"
# Generations after the fixture: compute1 = create, inventories, traits, aggregates, allocation.
GEN_COMPUTE1 = 4
GEN_SHARED = 4
GEN_BRIDGE = 4  # create, inventories, traits, vm0's claim, the rule's new rate
SEPARATOR = b"\n--next-request--\n"
BW_EGR = "NET_BW_EGR_KILOBIT_PER_SEC"
BW_IGR = "NET_BW_IGR_KILOBIT_PER_SEC"


def request(method, target, body=None, version="1.39", token="admin", extra=(), raw_body=None):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:8778"]
    if token is not None:
        lines.append(f"X-Auth-Token: {token}")
    if version is not None and not target.startswith("/v1"):
        lines.append(f"OpenStack-API-Version: placement {version}")
    lines.append("Accept: application/json")
    lines.extend(extra)
    data = b""
    if raw_body is not None:
        data = raw_body
    elif body is not None:
        data = json.dumps(body, separators=(",", ":")).encode()
    if data:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def alloc(rp_amounts, generation=None, project="proj", user="user", ctype="INSTANCE"):
    return {
        "allocations": {rp: {"resources": amounts} for rp, amounts in rp_amounts.items()},
        "consumer_generation": generation,
        "project_id": project,
        "user_id": user,
        "consumer_type": ctype,
    }


COMPUTE1_INVENTORIES = {
    "VCPU": {"total": 8, "max_unit": 8, "allocation_ratio": 16.0},
    "MEMORY_MB": {"total": 16384, "reserved": 512, "allocation_ratio": 1.5},
    "CUSTOM_FUZZ_RC": {"total": 10},
}

SEEDS = {
    # --- Placement: document, providers ---
    "version_root": request("GET", "/", version=None, token=None),
    "version_placement": request("GET", "/placement", version="latest"),
    "rp_list_filters": request(
        "GET",
        f"/placement/resource_providers?in_tree={COMPUTE0}&required=CUSTOM_PHYSNET_PHYSNET0"
        f"&resources={BW_EGR}:1000",
    ),
    "rp_list_member_of": request(
        "GET",
        f"/placement/resource_providers?member_of=in:{AGGREGATE}&name=compute1",
        version="1.3",
    ),
    "rp_list_forbidden": request(
        "GET",
        "/placement/resource_providers?required=!CUSTOM_FUZZ"
        "&required=in:HW_CPU_X86_AVX2,CUSTOM_FUZZ",
    ),
    "rp_create": request(
        "POST",
        "/placement/resource_providers",
        {"name": "compute2", "uuid": NEW_RP, "parent_provider_uuid": COMPUTE0},
    ),
    "rp_reparent": request(
        "PUT",
        f"/placement/resource_providers/{COMPUTE1}",
        {"name": "compute1", "parent_provider_uuid": COMPUTE0},
        "1.37",
    ),
    "rp_delete_in_use": request("DELETE", f"/placement/resource_providers/{SHARED}"),
    "rp_show": request("GET", f"/placement/resource_providers/{BRIDGE}", version="1.14"),
    # --- inventories and usages ---
    "inv_list": request("GET", f"/placement/resource_providers/{BRIDGE}/inventories"),
    "inv_put_all": request(
        "PUT",
        f"/placement/resource_providers/{COMPUTE1}/inventories",
        {
            "resource_provider_generation": GEN_COMPUTE1,
            "inventories": dict(COMPUTE1_INVENTORIES, DISK_GB={"total": 100, "step_size": 10}),
        },
    ),
    "inv_post_one": request(
        "POST",
        f"/placement/resource_providers/{COMPUTE1}/inventories",
        {
            "resource_class": "DISK_GB",
            "total": 200,
            "reserved": 10,
            "min_unit": 1,
            "max_unit": 100,
            "step_size": 1,
            "allocation_ratio": 1.0,
        },
    ),
    "inv_shrink_below_usage": request(
        "PUT",
        f"/placement/resource_providers/{COMPUTE1}/inventories/VCPU",
        {"resource_provider_generation": GEN_COMPUTE1, "total": 1, "max_unit": 1},
    ),
    "inv_ratio_large": request(
        "PUT",
        f"/placement/resource_providers/{COMPUTE1}/inventories/VCPU",
        {"resource_provider_generation": GEN_COMPUTE1, "total": 8, "allocation_ratio": 1.5e10},
    ),
    "inv_delete_in_use": request(
        "DELETE", f"/placement/resource_providers/{COMPUTE1}/inventories/VCPU"
    ),
    "inv_delete_all": request(
        "DELETE", f"/placement/resource_providers/{SRIOV}/inventories", version="1.5"
    ),
    "usages_rp": request("GET", f"/placement/resource_providers/{COMPUTE1}/usages"),
    "usages_project": request(
        "GET", "/placement/usages?project_id=proj&user_id=user&consumer_type=all", version="1.38"
    ),
    "usages_reader": request(
        "GET",
        "/placement/usages?project_id=proj",
        token="reader:proj",
        extra=("X-Roles: reader",),
    ),
    # --- aggregates and traits ---
    "aggregates_put": request(
        "PUT",
        f"/placement/resource_providers/{BRIDGE}/aggregates",
        {"aggregates": [AGGREGATE], "resource_provider_generation": GEN_BRIDGE},
    ),
    "aggregates_old": request(
        "PUT", f"/placement/resource_providers/{COMPUTE0}/aggregates", [AGGREGATE], "1.1"
    ),
    "traits_put": request(
        "PUT",
        f"/placement/resource_providers/{COMPUTE1}/traits",
        {
            "traits": ["HW_CPU_X86_AVX2", "CUSTOM_FUZZ", "COMPUTE_STATUS_DISABLED"],
            "resource_provider_generation": GEN_COMPUTE1,
        },
    ),
    "traits_delete_rp": request("DELETE", f"/placement/resource_providers/{COMPUTE1}/traits"),
    "traits_list": request(
        "GET", "/placement/traits?name=startswith:CUSTOM_&associated=true", version="1.6"
    ),
    "trait_put": request("PUT", "/placement/traits/CUSTOM_NEW_TRAIT"),
    "trait_delete_in_use": request("DELETE", "/placement/traits/CUSTOM_FUZZ"),
    # --- resource classes ---
    "rc_list": request("GET", "/placement/resource_classes", version="1.2"),
    "rc_post": request(
        "POST", "/placement/resource_classes", {"name": "CUSTOM_NEW_RC"}, version="1.2"
    ),
    "rc_put": request("PUT", "/placement/resource_classes/CUSTOM_PUT_RC", version="1.7"),
    "rc_delete_in_use": request("DELETE", "/placement/resource_classes/CUSTOM_FUZZ_RC"),
    # --- allocations ---
    "alloc_get": request("GET", f"/placement/allocations/{CONSUMER}"),
    "alloc_put_new": request(
        "PUT",
        f"/placement/allocations/{NEW_CONSUMER}",
        alloc({COMPUTE1: {"VCPU": 4, "MEMORY_MB": 4096}, SHARED: {"DISK_GB": 10}}),
    ),
    "alloc_put_grow": request(
        "PUT",
        f"/placement/allocations/{CONSUMER}",
        alloc({COMPUTE1: {"VCPU": 8, "MEMORY_MB": 20000}, SHARED: {"DISK_GB": 20}}, 1),
    ),
    "alloc_put_old": request(
        "PUT",
        f"/placement/allocations/{NEW_CONSUMER}",
        {
            "allocations": [{"resource_provider": {"uuid": COMPUTE1}, "resources": {"VCPU": 1}}],
            "project_id": "proj",
            "user_id": "user",
        },
        "1.8",
    ),
    "alloc_post": request(
        "POST",
        "/placement/allocations",
        {
            CONSUMER: {"allocations": {}, "consumer_generation": 1, "project_id": "proj",
                       "user_id": "user", "consumer_type": "INSTANCE"},
            NEW_CONSUMER: alloc({BRIDGE: {BW_EGR: 1000, BW_IGR: 1000}}, None, "proj2"),
        },
    ),
    "alloc_delete": request("DELETE", f"/placement/allocations/{CONSUMER}"),
    "alloc_rp": request("GET", f"/placement/resource_providers/{BRIDGE}/allocations"),
    "reshape": request(
        "POST",
        "/placement/reshaper",
        {
            "inventories": {
                COMPUTE1: {
                    "resource_provider_generation": GEN_COMPUTE1,
                    "inventories": dict(COMPUTE1_INVENTORIES, DISK_GB={"total": 500}),
                },
                SHARED: {"resource_provider_generation": GEN_SHARED, "inventories": {}},
            },
            "allocations": {
                CONSUMER: alloc({COMPUTE1: {"VCPU": 2, "MEMORY_MB": 2048, "DISK_GB": 20}}, 1)
            },
        },
    ),
    # --- allocation candidates ---
    "candidates_sharing": request(
        "GET",
        f"/placement/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:10"
        f"&member_of={AGGREGATE}&limit=5",
    ),
    "candidates_groups": request(
        "GET",
        f"/placement/allocation_candidates?resources1={BW_EGR}:1000,{BW_IGR}:1000"
        "&required1=CUSTOM_PHYSNET_PHYSNET0,CUSTOM_VNIC_TYPE_NORMAL"
        f"&resources2={BW_EGR}:500&required2=CUSTOM_VNIC_TYPE_DIRECT&group_policy=isolate"
        "&same_subtree=1,2&root_required=!CUSTOM_FUZZ",
    ),
    "candidates_old": request(
        "GET",
        "/placement/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX2",
        version="1.17",
    ),
    # --- protocol: versions, auth, bodies ---
    "version_old": request("GET", "/placement/resource_providers", version="1.0"),
    "version_bad": request("GET", "/placement/resource_providers", version="2.x"),
    "version_unacceptable": request("GET", "/placement/traits", version="1.999"),
    "no_token": request("GET", "/placement/resource_providers", token=None),
    "not_admin": request("GET", "/placement/resource_providers", token="alice:proj"),
    "bad_json": request(
        "PUT", f"/placement/allocations/{NEW_CONSUMER}", raw_body=b'{"allocations": {"x": [1,'
    ),
    "no_content_type": b"POST /placement/resource_providers HTTP/1.1\r\nHost: h\r\n"
    b"X-Auth-Token: admin\r\nContent-Length: 2\r\n\r\n{}",
    "chunked": b"POST /placement/resource_providers HTTP/1.1\r\nHost: h\r\nX-Auth-Token: admin\r\n"
    b"OpenStack-API-Version: placement 1.39\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n11\r\n{\"name\": \"chunk\"}\r\n0\r\n\r\n",
    "http10_percent": b"GET /placement/resource_providers?name=a%20b%2Fc&uuid=%zz HTTP/1.0\r\n"
    b"X-Auth-Token: admin\r\n\r\n",
    "not_found": request("GET", "/elsewhere"),
    "method_not_allowed": request("PATCH", "/placement/resource_providers"),
    # --- /v1 ---
    "v1_root": request("GET", "/v1"),
    "v1_networks": request("GET", "/v1/networks"),
    "v1_network_create": request(
        "POST", "/v1/networks", {"name": "net1", "physnet": "physnet1", "segmentation_id": 200}
    ),
    "v1_policy_create": request("POST", "/v1/qos_policies", {"name": "bronze"}),
    "v1_rule_create": request(
        "POST",
        "/v1/qos_policies/silver/rules",
        {"type": "minimum_bandwidth", "direction": "egress", "min_kbps": 1000},
    ),
    "v1_rule_bound": request(
        "POST",
        "/v1/qos_policies/gold/rules",
        {"type": "bandwidth_limit", "direction": "ingress", "max_kbps": 1000},
    ),
    "v1_rule_update_unknown": request(
        "PUT", f"/v1/qos_policies/gold/rules/{NEW_CONSUMER}", {"min_kbps": 30000}
    ),
    "v1_port_create": request(
        "POST",
        "/v1/ports",
        {"name": "p9", "network": "net0", "vnic_type": "direct", "qos_policy": "gold",
         "mac_address": "FA:16:3E:00:00:09"},
    ),
    "v1_port_show": request("GET", "/v1/ports/p0"),
    "v1_port_delete": request("DELETE", "/v1/ports/p2"),
    "v1_server_create": request(
        "POST", "/v1/servers", {"name": "vm9", "ports": ["p3"], "strategy": "pack"}
    ),
    "v1_server_create_host": request(
        "POST", "/v1/servers", {"name": "vm8", "ports": ["p2"], "host": "compute0"}
    ),
    "v1_server_delete": request("DELETE", "/v1/servers/vm0"),
    "v1_server_delete_pending": request("DELETE", "/v1/servers/vm1"),
    "v1_network_delete_in_use": request("DELETE", "/v1/networks/net0"),
    "v1_bindings": request("GET", "/v1/hosts/compute0/bindings"),
    "v1_bindings_longpoll": request("GET", "/v1/hosts/compute0/bindings?revision=2&wait=5"),
    "v1_heartbeat": request(
        "POST",
        "/v1/agents",
        {"host": "compute1", "agent_type": "Open vSwitch agent", "binary": "bwfloor-agent",
         "configurations": {"bridge_mappings": {"physnet0": "br-phys"}},
         "resources_synced": True},
    ),
    "v1_agents": request("GET", "/v1/agents"),
    "v1_binding_status": request(
        "PUT", f"/v1/ports/{NEW_CONSUMER}/binding_status", {"state": "enforced", "detail": ""}
    ),
    "v1_wrong_type": request("POST", "/v1/agents", {"host": 5, "agent_type": ["x"]}),
}

# Sequences, one world: each request sees what the one before it did.
SEQUENCES = {
    "seq_provider_lifecycle": [
        request("POST", "/placement/resource_providers", {"name": "compute2", "uuid": NEW_RP}),
        request(
            "PUT",
            f"/placement/resource_providers/{NEW_RP}/inventories",
            {"resource_provider_generation": 0,
             "inventories": {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096}}},
        ),
        request(
            "PUT",
            f"/placement/allocations/{NEW_CONSUMER}",
            alloc({NEW_RP: {"VCPU": 2, "MEMORY_MB": 1024}}),
        ),
        request("GET", f"/placement/resource_providers/{NEW_RP}/usages"),
        request("DELETE", f"/placement/allocations/{NEW_CONSUMER}"),
        request("DELETE", f"/placement/resource_providers/{NEW_RP}"),
    ],
    "seq_overcommit": [
        request(
            "PUT",
            f"/placement/resource_providers/{COMPUTE1}/inventories/VCPU",
            {"resource_provider_generation": GEN_COMPUTE1, "total": 1, "max_unit": 1},
        ),
        request(
            "PUT",
            f"/placement/allocations/{CONSUMER}",
            alloc({COMPUTE1: {"VCPU": 1, "MEMORY_MB": 2048}, SHARED: {"DISK_GB": 20}}, 1),
        ),
        request(
            "PUT",
            f"/placement/allocations/{NEW_CONSUMER}",
            alloc({COMPUTE1: {"VCPU": 1}}),
        ),
    ],
    "seq_server": [
        request("POST", "/v1/servers", {"name": "vm9", "ports": ["p3"]}),
        request("GET", "/v1/hosts/compute0/bindings?revision=3&wait=5"),
        request("GET", "/v1/servers/vm9"),
        request("DELETE", "/v1/servers/vm9"),
        request("GET", f"/placement/resource_providers/{BRIDGE}/usages"),
    ],
    "seq_v1_objects": [
        request("POST", "/v1/qos_policies", {"name": "bronze"}),
        request("POST", "/v1/qos_policies/bronze/rules",
                {"type": "minimum_bandwidth", "direction": "ingress", "min_kbps": 300}),
        request("POST", "/v1/ports", {"name": "p9", "network": "net0", "qos_policy": "bronze"}),
        request("POST", "/v1/servers", {"name": "vm9", "ports": ["p9", "p2"]}),
        request("DELETE", "/v1/qos_policies/bronze"),
    ],
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "corpus",
                                                             "http_request_fuzzer")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".http"), "wb") as f:
            f.write(data)
    for name, requests in SEQUENCES.items():
        with open(os.path.join(out, name + ".http"), "wb") as f:
            f.write(SEPARATOR.join(requests))
    print(f"{len(SEEDS) + len(SEQUENCES)} seeds in {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
