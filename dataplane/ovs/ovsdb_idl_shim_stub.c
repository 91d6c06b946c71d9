/* The shim's API when bwfloor is configured with BWFLOOR_WITH_OPENVSWITCH=OFF: every call reports
 * BWFLOOR_OVSDB_UNSUPPORTED, so the agent runs in its explicit no-OVS (tc only) mode. */
#include <stdio.h>
#include <string.h>

#include "dataplane/ovs/ovsdb_idl_shim.h"

int bwfloor_ovsdb_read_bridges(const char* remote, int timeout_ms,
                               struct bwfloor_ovsdb_bridges* out,
                               struct bwfloor_ovsdb_error* error) {
  (void)remote;
  (void)timeout_ms;
  memset(out, 0, sizeof *out);
  memset(error, 0, sizeof *error);
  snprintf(error->reason, sizeof error->reason,
           "bwfloor was built without libopenvswitch (BWFLOOR_WITH_OPENVSWITCH=OFF)");
  return BWFLOOR_OVSDB_UNSUPPORTED;
}

void bwfloor_ovsdb_bridges_free(struct bwfloor_ovsdb_bridges* bridges) { (void)bridges; }

static int unsupported(struct bwfloor_ovsdb_error* error) {
  memset(error, 0, sizeof *error);
  snprintf(error->reason, sizeof error->reason,
           "bwfloor was built without libopenvswitch (BWFLOOR_WITH_OPENVSWITCH=OFF)");
  return BWFLOOR_OVSDB_UNSUPPORTED;
}

int bwfloor_ovsdb_qos_read(const char* remote, int timeout_ms, struct bwfloor_ovsdb_qos_tables* out,
                           struct bwfloor_ovsdb_error* error) {
  (void)remote;
  (void)timeout_ms;
  memset(out, 0, sizeof *out);
  return unsupported(error);
}

void bwfloor_ovsdb_qos_tables_free(struct bwfloor_ovsdb_qos_tables* tables) { (void)tables; }

int bwfloor_ovsdb_qos_transact(const char* remote, int timeout_ms, int wait_for_vswitchd,
                               bwfloor_ovsdb_plan_fn plan, void* ctx,
                               struct bwfloor_ovsdb_commit* out,
                               struct bwfloor_ovsdb_error* error) {
  (void)remote;
  (void)timeout_ms;
  (void)wait_for_vswitchd;
  (void)plan;
  (void)ctx;
  memset(out, 0, sizeof *out);
  return unsupported(error);
}
