#pragma once
/* C API of the OVSDB IDL shim (ovsdb_idl_shim.c). Includes no OVS header, so C++ can include it.
 *
 * Why a shim: lib/ovsdb-data.h and lib/ovsdb-idl.h name prototype parameters `new` and `class`,
 * and openvswitch/util.h's container macros (SMAP_FOR_EACH, HMAP_FOR_EACH, ...) expand to
 * `typeof`; OVS headers also must follow <config.h> and must not be wrapped in extern "C". So
 * ovsdb_idl_shim.c is the only file that includes them, and it hands out plain C structs.
 *
 * Internal to bwfloor_dataplane_ovs: use OvsdbBridgeReader (ovsdb_bridge_reader.h) and
 * OvsdbIdlQosApi (ovsdb_idl_qos_api.h), not this. */

#include <stddef.h> /* NOLINT(modernize-deprecated-headers): a C header */
#include <stdint.h> /* NOLINT(modernize-deprecated-headers): a C header */

#ifdef __cplusplus
extern "C" {
#endif

/* C naming, not bwfloor's C++ naming. */
/* NOLINTBEGIN(readability-identifier-naming,modernize-use-using) */

enum bwfloor_ovsdb_status {
  BWFLOOR_OVSDB_OK = 0,
  BWFLOOR_OVSDB_BAD_REMOTE = 1,  /* not an active OVSDB remote ("unix:PATH", "tcp:IP:PORT") */
  BWFLOOR_OVSDB_UNAVAILABLE = 2, /* connection failed or closed, or no Open_vSwitch database */
  BWFLOOR_OVSDB_TIMEOUT = 3,     /* no database contents before the deadline */
  BWFLOOR_OVSDB_UNSUPPORTED = 4, /* built without libopenvswitch (BWFLOOR_WITH_OPENVSWITCH=OFF) */
  /* Write transactions (bwfloor_ovsdb_qos_transact) only: */
  BWFLOOR_OVSDB_CONFLICT = 5,    /* the database kept changing under the transaction */
  BWFLOOR_OVSDB_TXN_ERROR = 6,   /* the server refused it (e.g. referential integrity) */
  BWFLOOR_OVSDB_PLAN_FAILED = 7, /* the plan callback returned non-zero: nothing was written */
  BWFLOOR_OVSDB_BAD_OP = 8,      /* an operation names a row that does not exist */
  BWFLOOR_OVSDB_NOT_APPLIED = 9, /* committed, but ovs-vswitchd did not apply it in time */
};

/* Every string is NUL-terminated and owned by the snapshot (never NULL). */
struct bwfloor_ovsdb_interface {
  char* name;
  char* type; /* "" = system */
  char* peer; /* options:peer, "" if unset */
  int has_ofport;
  int64_t ofport;
};

struct bwfloor_ovsdb_port {
  char* name;
  struct bwfloor_ovsdb_interface* interfaces;
  size_t n_interfaces;
};

struct bwfloor_ovsdb_bridge {
  char* name;
  char* datapath_type; /* "" = system */
  struct bwfloor_ovsdb_port* ports;
  size_t n_ports;
};

struct bwfloor_ovsdb_bridges {
  struct bwfloor_ovsdb_bridge* bridges;
  size_t n_bridges;
};

struct bwfloor_ovsdb_error {
  int sys_errno;    /* positive errno when the socket layer reported one, else 0 */
  char reason[160]; /* what went wrong, without the remote's name */
};

/* Connects to the OVSDB server at `remote`, waits at most `timeout_ms` for the Open_vSwitch
 * database's Bridge/Port/Interface rows, copies them into `*out` and disconnects. Does not retry:
 * a refused or missing socket fails at once. Returns a bwfloor_ovsdb_status; on success the caller
 * frees `*out` with bwfloor_ovsdb_bridges_free(), on failure `*out` is empty and `*error` says why.
 * Calls are serialized by a process-wide mutex (libopenvswitch keeps global state). */
int bwfloor_ovsdb_read_bridges(const char* remote, int timeout_ms,
                               struct bwfloor_ovsdb_bridges* out,
                               struct bwfloor_ovsdb_error* error);

/* Frees what bwfloor_ovsdb_read_bridges() stored in `*bridges` and empties it. NULL-safe. */
void bwfloor_ovsdb_bridges_free(struct bwfloor_ovsdb_bridges* bridges);

/* --- QoS and Queue tables (ovsdb_qos_shim.c) ------------------------------------------------ */

#define BWFLOOR_OVSDB_UUID_LEN 37 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" + NUL */

/* An OVSDB map<string,string> column (other_config, external_ids), sorted by key. */
struct bwfloor_ovsdb_smap {
  char** keys;
  char** values;
  size_t n;
};

struct bwfloor_ovsdb_qos_port {
  char uuid[BWFLOOR_OVSDB_UUID_LEN];
  char* name;
  char qos[BWFLOOR_OVSDB_UUID_LEN]; /* the QoS row it references, "" for none */
  struct bwfloor_ovsdb_interface* interfaces;
  size_t n_interfaces;
};

struct bwfloor_ovsdb_qos_bridge {
  char* name;
  char* datapath_type;
  struct bwfloor_ovsdb_qos_port* ports;
  size_t n_ports;
};

struct bwfloor_ovsdb_qos_row {
  char uuid[BWFLOOR_OVSDB_UUID_LEN];
  char* type;
  struct bwfloor_ovsdb_smap other_config;
  struct bwfloor_ovsdb_smap external_ids;
  int64_t* queue_ids;                          /* the queues column: queue number -> */
  char (*queue_uuids)[BWFLOOR_OVSDB_UUID_LEN]; /* Queue row */
  size_t n_queues;
};

struct bwfloor_ovsdb_queue_row {
  char uuid[BWFLOOR_OVSDB_UUID_LEN];
  struct bwfloor_ovsdb_smap other_config;
  struct bwfloor_ovsdb_smap external_ids;
};

/* One consistent snapshot of what a QoS backend reads: bridges with their ports' UUIDs and qos
 * column, and every QoS and Queue row. Owned by the shim (bwfloor_ovsdb_qos_tables_free). */
struct bwfloor_ovsdb_qos_tables {
  struct bwfloor_ovsdb_qos_bridge* bridges;
  size_t n_bridges;
  struct bwfloor_ovsdb_qos_row* qos;
  size_t n_qos;
  struct bwfloor_ovsdb_queue_row* queues;
  size_t n_queues;
};

enum bwfloor_ovsdb_op_kind {
  BWFLOOR_OVSDB_OP_INSERT_QUEUE = 1,
  BWFLOOR_OVSDB_OP_UPDATE_QUEUE = 2,
  BWFLOOR_OVSDB_OP_DELETE_QUEUE = 3,
  BWFLOOR_OVSDB_OP_INSERT_QOS = 4,
  BWFLOOR_OVSDB_OP_UPDATE_QOS = 5,
  BWFLOOR_OVSDB_OP_DELETE_QOS = 6,
  BWFLOOR_OVSDB_OP_SET_PORT_QOS = 7,
};

/* One change of a write transaction. A row reference (`queue_refs`, `qos_ref`) is an existing
 * row's UUID, "#N" for the row inserted by operation N of the same transaction, or "" (qos_ref
 * only: clears Port.qos). Every column an operation writes on an existing row is verified first:
 * if another client changed it since the snapshot, the transaction is retried on fresh data. */
struct bwfloor_ovsdb_op {
  int kind;                                      /* enum bwfloor_ovsdb_op_kind */
  const char* row;                               /* UUID: updated/deleted row, or the Port */
  const char* type;                              /* QoS type; NULL = leave as is */
  const struct bwfloor_ovsdb_smap* other_config; /* NULL = leave as is */
  const struct bwfloor_ovsdb_smap* external_ids; /* NULL = leave as is */
  int set_queues;                                /* QoS: replace the queues column with: */
  const int64_t* queue_ids;
  const char* const* queue_refs;
  size_t n_queues;
  const char* qos_ref; /* SET_PORT_QOS */
};

/* Called with a consistent snapshot; stores the operations to commit in `*ops` / `*n_ops` (owned
 * by the callback's context, valid until it is called again or the transaction returns). Returns 0
 * to go on, non-zero to stop without writing (BWFLOOR_OVSDB_PLAN_FAILED). Called again with fresh
 * data when a verified column changed before the commit. */
typedef int (*bwfloor_ovsdb_plan_fn)(const struct bwfloor_ovsdb_qos_tables* tables, void* ctx,
                                     const struct bwfloor_ovsdb_op** ops, size_t* n_ops);

struct bwfloor_ovsdb_commit {
  int committed;        /* a transaction with changes was committed */
  int attempts;         /* plan + commit rounds (1 unless the database changed meanwhile) */
  int vswitchd_applied; /* asked to wait, and ovs-vswitchd's cur_cfg caught up */
};

/* Reads the snapshot above (one session, like bwfloor_ovsdb_read_bridges). */
int bwfloor_ovsdb_qos_read(const char* remote, int timeout_ms, struct bwfloor_ovsdb_qos_tables* out,
                           struct bwfloor_ovsdb_error* error);
void bwfloor_ovsdb_qos_tables_free(struct bwfloor_ovsdb_qos_tables* tables);

/* One session: waits for the contents, calls `plan`, commits its operations in one transaction
 * (re-planning on a verify conflict, at most a few times) and, when `wait_for_vswitchd` is set
 * and something was committed, waits until ovs-vswitchd reports it has applied the new
 * configuration (Open_vSwitch cur_cfg >= the next_cfg the transaction incremented), as ovs-vsctl
 * does without --no-wait. Everything within `timeout_ms`. Returns a bwfloor_ovsdb_status. */
int bwfloor_ovsdb_qos_transact(const char* remote, int timeout_ms, int wait_for_vswitchd,
                               bwfloor_ovsdb_plan_fn plan, void* ctx,
                               struct bwfloor_ovsdb_commit* out, struct bwfloor_ovsdb_error* error);

/* NOLINTEND(readability-identifier-naming,modernize-use-using) */

#ifdef __cplusplus
}
#endif
