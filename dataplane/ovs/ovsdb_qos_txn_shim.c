/* OVSDB IDL shim, QoS write transactions: plan on a consistent snapshot, commit with verify,
 * re-plan on conflicts, wait for ovs-vswitchd (see ovsdb_idl_shim.h for the API). GNU C. */
/* clang-format off: OVS's <config.h> must precede every other include. */
#include <config.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/ovs/ovsdb_idl_shim.h"
#include "dataplane/ovs/ovsdb_idl_shim_private.h"
#include "lib/ovsdb-idl.h"
#include "lib/smap.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/uuid.h"
#include "lib/vswitch-idl.h"
#include "openvswitch/poll-loop.h"

/* Verify conflicts (another client wrote a column we write) before giving up. */
enum { MAX_ATTEMPTS = 5 };

/* The rows inserted so far by this transaction's operations, by operation index. */
struct inserted_rows {
  const struct ovsdb_idl_row** rows;
  int* kinds; /* BWFLOOR_OVSDB_OP_INSERT_QUEUE or _INSERT_QOS; 0 for other operations */
  size_t n;
};

static void to_smap(const struct bwfloor_ovsdb_smap* in, struct smap* out) {
  smap_init(out);
  for (size_t i = 0; i < in->n; i++) {
    smap_replace(out, in->keys[i], in->values[i]);
  }
}

/* Resolves "#N" (a row inserted by operation N with `insert_kind`) or a UUID to a row of
 * `table`; NULL if there is none. */
static const struct ovsdb_idl_row* resolve(struct ovsdb_idl* idl,
                                           const struct ovsdb_idl_table_class* table,
                                           int insert_kind, const struct inserted_rows* inserted,
                                           const char* ref) {
  if (!ref || !*ref) {
    return NULL;
  }
  if (ref[0] == '#') {
    char* end = NULL;
    const unsigned long index = strtoul(ref + 1, &end, 10);
    if (*end || index >= inserted->n || inserted->kinds[index] != insert_kind) {
      return NULL;
    }
    return inserted->rows[index];
  }
  struct uuid uuid;
  if (!uuid_from_string(&uuid, ref)) {
    return NULL;
  }
  return ovsdb_idl_get_row_for_uuid(idl, table, &uuid);
}

static const struct ovsrec_queue* resolve_queue(struct ovsdb_idl* idl,
                                                const struct inserted_rows* inserted,
                                                const char* ref) {
  const struct ovsdb_idl_row* row =
      resolve(idl, &ovsrec_table_queue, BWFLOOR_OVSDB_OP_INSERT_QUEUE, inserted, ref);
  return row ? CONTAINER_OF(row, struct ovsrec_queue, header_) : NULL;
}

static const struct ovsrec_qos* resolve_qos(struct ovsdb_idl* idl,
                                            const struct inserted_rows* inserted, const char* ref) {
  const struct ovsdb_idl_row* row =
      resolve(idl, &ovsrec_table_qos, BWFLOOR_OVSDB_OP_INSERT_QOS, inserted, ref);
  return row ? CONTAINER_OF(row, struct ovsrec_qos, header_) : NULL;
}

/* Sets the columns an INSERT/UPDATE_QUEUE operation names. */
static void write_queue(const struct ovsrec_queue* row, const struct bwfloor_ovsdb_op* op,
                        int verify) {
  struct smap map;
  if (op->other_config) {
    if (verify) {
      ovsrec_queue_verify_other_config(row);
    }
    to_smap(op->other_config, &map);
    ovsrec_queue_set_other_config(row, &map);
    smap_destroy(&map);
  }
  if (op->external_ids) {
    if (verify) {
      ovsrec_queue_verify_external_ids(row);
    }
    to_smap(op->external_ids, &map);
    ovsrec_queue_set_external_ids(row, &map);
    smap_destroy(&map);
  }
}

/* Sets the columns an INSERT/UPDATE_QOS operation names; 0 when a queue reference is unknown. */
static int write_qos(struct ovsdb_idl* idl, const struct inserted_rows* inserted,
                     const struct ovsrec_qos* row, const struct bwfloor_ovsdb_op* op, int verify) {
  struct smap map;
  if (op->type) {
    if (verify) {
      ovsrec_qos_verify_type(row);
    }
    ovsrec_qos_set_type(row, op->type);
  }
  if (op->other_config) {
    if (verify) {
      ovsrec_qos_verify_other_config(row);
    }
    to_smap(op->other_config, &map);
    ovsrec_qos_set_other_config(row, &map);
    smap_destroy(&map);
  }
  if (op->external_ids) {
    if (verify) {
      ovsrec_qos_verify_external_ids(row);
    }
    to_smap(op->external_ids, &map);
    ovsrec_qos_set_external_ids(row, &map);
    smap_destroy(&map);
  }
  if (op->set_queues) {
    struct ovsrec_queue** queues = xcalloc(op->n_queues ? op->n_queues : 1, sizeof *queues);
    for (size_t i = 0; i < op->n_queues; i++) {
      queues[i] = CONST_CAST(struct ovsrec_queue*, resolve_queue(idl, inserted, op->queue_refs[i]));
      if (!queues[i]) {
        free(queues);
        return 0;
      }
    }
    if (verify) {
      ovsrec_qos_verify_queues(row);
    }
    ovsrec_qos_set_queues(row, op->queue_ids, queues, op->n_queues);
    free(queues);
  }
  return 1;
}

/* Adds operation `index` to `txn`; 0 when it names a row that does not exist. */
static int apply_op(struct ovsdb_idl* idl, struct ovsdb_idl_txn* txn,
                    struct inserted_rows* inserted, size_t index,
                    const struct bwfloor_ovsdb_op* op) {
  struct uuid uuid;
  const int has_uuid = op->row && uuid_from_string(&uuid, op->row);
  switch (op->kind) {
    case BWFLOOR_OVSDB_OP_INSERT_QUEUE: {
      const struct ovsrec_queue* row = ovsrec_queue_insert(txn);
      write_queue(row, op, 0);
      inserted->rows[index] = &row->header_;
      inserted->kinds[index] = op->kind;
      return 1;
    }
    case BWFLOOR_OVSDB_OP_UPDATE_QUEUE:
    case BWFLOOR_OVSDB_OP_DELETE_QUEUE: {
      const struct ovsrec_queue* row = has_uuid ? ovsrec_queue_get_for_uuid(idl, &uuid) : NULL;
      if (!row) {
        return 0;
      }
      if (op->kind == BWFLOOR_OVSDB_OP_DELETE_QUEUE) {
        ovsrec_queue_delete(row);
      } else {
        write_queue(row, op, 1);
      }
      return 1;
    }
    case BWFLOOR_OVSDB_OP_INSERT_QOS: {
      const struct ovsrec_qos* row = ovsrec_qos_insert(txn);
      inserted->rows[index] = &row->header_;
      inserted->kinds[index] = op->kind;
      return write_qos(idl, inserted, row, op, 0);
    }
    case BWFLOOR_OVSDB_OP_UPDATE_QOS:
    case BWFLOOR_OVSDB_OP_DELETE_QOS: {
      const struct ovsrec_qos* row = has_uuid ? ovsrec_qos_get_for_uuid(idl, &uuid) : NULL;
      if (!row) {
        return 0;
      }
      if (op->kind == BWFLOOR_OVSDB_OP_DELETE_QOS) {
        ovsrec_qos_delete(row);
        return 1;
      }
      return write_qos(idl, inserted, row, op, 1);
    }
    case BWFLOOR_OVSDB_OP_SET_PORT_QOS: {
      const struct ovsrec_port* port = has_uuid ? ovsrec_port_get_for_uuid(idl, &uuid) : NULL;
      const struct ovsrec_qos* qos = resolve_qos(idl, inserted, op->qos_ref);
      if (!port || (op->qos_ref && *op->qos_ref && !qos)) {
        return 0;
      }
      ovsrec_port_verify_qos(port);
      ovsrec_port_set_qos(port, qos);
      return 1;
    }
    default:
      return 0;
  }
}

/* Commits `txn`, running the IDL until the server answers or `deadline` passes. */
static enum ovsdb_idl_txn_status commit(struct ovsdb_idl* idl, struct ovsdb_idl_txn* txn,
                                        long long int deadline) {
  for (;;) {
    const enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
    if (status != TXN_INCOMPLETE || time_msec() >= deadline) {
      return status;
    }
    ovsdb_idl_run(idl);
    ovsdb_idl_wait(idl);
    ovsdb_idl_txn_wait(txn);
    poll_timer_wait_until(deadline);
    poll_block();
  }
}

/* Runs the IDL until `done` holds, the session dies or `deadline` passes. */
static int run_until(struct ovsdb_idl* idl, long long int deadline,
                     int (*done)(struct ovsdb_idl*, const void*), const void* arg) {
  for (;;) {
    ovsdb_idl_run(idl);
    if (done(idl, arg)) {
      return 1;
    }
    if (!ovsdb_idl_is_alive(idl) || time_msec() >= deadline) {
      return 0;
    }
    ovsdb_idl_wait(idl);
    poll_timer_wait_until(deadline);
    poll_block();
  }
}

static int seqno_changed(struct ovsdb_idl* idl, const void* arg) {
  return ovsdb_idl_get_seqno(idl) != *(const unsigned int*)arg;
}

static int vswitchd_caught_up(struct ovsdb_idl* idl, const void* arg) {
  const struct ovsrec_open_vswitch* ovs = ovsrec_open_vswitch_first(idl);
  return ovs && ovs->cur_cfg >= *(const int64_t*)arg;
}

/* One plan + commit round. Returns a bwfloor_ovsdb_status, or -1 to plan again. */
static int attempt(struct ovsdb_idl* idl, long long int deadline, int wait_for_vswitchd,
                   bwfloor_ovsdb_plan_fn plan, void* ctx, struct bwfloor_ovsdb_commit* out,
                   int64_t* next_cfg, struct bwfloor_ovsdb_error* error) {
  struct bwfloor_ovsdb_qos_tables tables;
  bwfloor_shim_copy_qos_tables(idl, &tables);
  const struct bwfloor_ovsdb_op* ops = NULL;
  size_t n_ops = 0;
  const int planned = plan(&tables, ctx, &ops, &n_ops);
  bwfloor_ovsdb_qos_tables_free(&tables);
  if (planned != 0) {
    bwfloor_shim_set_error(error, 0, "the plan failed");
    return BWFLOOR_OVSDB_PLAN_FAILED;
  }
  if (n_ops == 0) {
    return BWFLOOR_OVSDB_OK;
  }

  const unsigned int seqno = ovsdb_idl_get_seqno(idl);
  struct ovsdb_idl_txn* txn = ovsdb_idl_txn_create(idl);
  ovsdb_idl_txn_add_comment(txn, "bwfloor: QoS/Queue change (%zu operations)", n_ops);
  struct inserted_rows inserted = {xcalloc(n_ops, sizeof *inserted.rows),
                                   xcalloc(n_ops, sizeof *inserted.kinds), n_ops};
  for (size_t i = 0; i < n_ops; i++) {
    if (!apply_op(idl, txn, &inserted, i, &ops[i])) {
      char reason[sizeof error->reason];
      snprintf(reason, sizeof reason, "operation %zu (kind %d) names an unknown row %s", i,
               ops[i].kind, ops[i].row ? ops[i].row : "");
      bwfloor_shim_set_error(error, 0, reason);
      free(inserted.rows);
      free(inserted.kinds);
      ovsdb_idl_txn_abort(txn);
      ovsdb_idl_txn_destroy(txn);
      return BWFLOOR_OVSDB_BAD_OP;
    }
  }
  free(inserted.rows);
  free(inserted.kinds);
  const struct ovsrec_open_vswitch* ovs = ovsrec_open_vswitch_first(idl);
  if (wait_for_vswitchd && ovs) {
    ovsdb_idl_txn_increment(txn, &ovs->header_, &ovsrec_open_vswitch_col_next_cfg, false);
  }

  const enum ovsdb_idl_txn_status status = commit(idl, txn, deadline);
  int result = BWFLOOR_OVSDB_OK;
  if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
    out->committed = status == TXN_SUCCESS;
    if (wait_for_vswitchd && ovs && status == TXN_SUCCESS) {
      *next_cfg = ovsdb_idl_txn_get_increment_new_value(txn);
    }
  } else if (status == TXN_TRY_AGAIN) {
    result = -1;
  } else if (status == TXN_INCOMPLETE) {
    bwfloor_shim_set_error(error, 0, "no answer to the transaction before the deadline");
    result = BWFLOOR_OVSDB_TIMEOUT;
  } else {
    char reason[sizeof error->reason];
    const char* why = ovsdb_idl_txn_get_error(txn);
    snprintf(reason, sizeof reason, "transaction %s: %s", ovsdb_idl_txn_status_to_string(status),
             why ? why : "no reason given");
    bwfloor_shim_set_error(error, 0, reason);
    result = BWFLOOR_OVSDB_TXN_ERROR;
  }
  ovsdb_idl_txn_destroy(txn);
  if (result == -1 && !run_until(idl, deadline, seqno_changed, &seqno)) {
    bwfloor_shim_set_error(error, 0, "verify conflict, and no fresh contents before the deadline");
    return BWFLOOR_OVSDB_TIMEOUT;
  }
  return result;
}

int bwfloor_ovsdb_qos_transact(const char* remote, int timeout_ms, int wait_for_vswitchd,
                               bwfloor_ovsdb_plan_fn plan, void* ctx,
                               struct bwfloor_ovsdb_commit* out,
                               struct bwfloor_ovsdb_error* error) {
  memset(out, 0, sizeof *out);
  memset(error, 0, sizeof *error);
  if (timeout_ms < 1) {
    timeout_ms = 1;
  }
  struct bwfloor_shim_session session;
  const int entered = bwfloor_shim_enter(remote, &session, error);
  if (entered != BWFLOOR_OVSDB_OK) {
    return entered;
  }
  const long long int deadline = bwfloor_shim_deadline(timeout_ms);
  struct ovsdb_idl* idl = ovsdb_idl_create(remote, &ovsrec_idl_class, false, false);
  bwfloor_shim_add_qos_columns(idl);
  int status = bwfloor_shim_wait_for_contents(idl, deadline, timeout_ms, error);
  int64_t next_cfg = -1;
  while (status == BWFLOOR_OVSDB_OK) {
    out->attempts++;
    status = attempt(idl, deadline, wait_for_vswitchd, plan, ctx, out, &next_cfg, error);
    if (status != -1) {
      break;
    }
    status = BWFLOOR_OVSDB_OK;
    if (out->attempts >= MAX_ATTEMPTS) {
      bwfloor_shim_set_error(error, 0, "the database kept changing under the transaction");
      status = BWFLOOR_OVSDB_CONFLICT;
    }
  }
  if (status == BWFLOOR_OVSDB_OK && next_cfg >= 0) {
    out->vswitchd_applied = run_until(idl, deadline, vswitchd_caught_up, &next_cfg);
    if (!out->vswitchd_applied) {
      char reason[sizeof error->reason];
      snprintf(reason, sizeof reason,
               "committed, but ovs-vswitchd did not apply it within %d ms (is it running?)",
               timeout_ms);
      bwfloor_shim_set_error(error, 0, reason);
      status = BWFLOOR_OVSDB_NOT_APPLIED;
    }
  }
  ovsdb_idl_destroy(idl);
  bwfloor_shim_leave(&session);
  return status;
}
