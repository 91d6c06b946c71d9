#pragma once
/* Helpers shared by the C files of the OVSDB IDL shim (ovsdb_idl_shim.c: sessions and the bridge
 * reader; ovsdb_qos_shim.c: QoS/Queue tables and write transactions). C only, never included from
 * C++. Includes no OVS header itself; the files that include it have included OVS's. */

#include <signal.h>

#include "dataplane/ovs/ovsdb_idl_shim.h"

struct ovsdb_idl;
struct ovsrec_interface;
struct bwfloor_ovsdb_qos_tables;

/* One IDL session of the calling thread: the process-wide shim mutex is held and SIGPIPE is
 * blocked from bwfloor_shim_enter() to bwfloor_shim_leave(). */
struct bwfloor_shim_session {
  int entered;
  int active; /* SIGPIPE was unblocked before and is blocked now */
  int was_pending;
  sigset_t old_mask;
};

/* Initializes libopenvswitch once, checks that `remote` is an active remote, then takes the
 * mutex and blocks SIGPIPE. Returns BWFLOOR_OVSDB_OK or BWFLOOR_OVSDB_BAD_REMOTE (nothing held). */
int bwfloor_shim_enter(const char* remote, struct bwfloor_shim_session* session,
                       struct bwfloor_ovsdb_error* error);
/* Undoes bwfloor_shim_enter(); a no-op when it failed. */
void bwfloor_shim_leave(struct bwfloor_shim_session* session);

void bwfloor_shim_set_error(struct bwfloor_ovsdb_error* error, int sys_errno, const char* reason);

/* Runs the IDL (opened without retry) until it holds the database contents or `deadline`
 * (time_msec()) passes; `timeout_ms` only words the message. Returns a bwfloor_ovsdb_status. */
/* One snapshot of the database, for the read-only entry points: enters the shim, opens the IDL
 * on `remote` (no retry), has `add_columns` choose what to replicate, waits for the contents
 * until `timeout_ms` (at least 1) has passed and, when they came, runs `copy(idl, out)`.
 * Returns a bwfloor_ovsdb_status; `error` says why otherwise. */
typedef void (*bwfloor_shim_columns_fn)(struct ovsdb_idl* idl);
typedef void (*bwfloor_shim_copy_fn)(struct ovsdb_idl* idl, void* out);
int bwfloor_shim_read_snapshot(const char* remote, int timeout_ms,
                               bwfloor_shim_columns_fn add_columns, bwfloor_shim_copy_fn copy,
                               void* out, struct bwfloor_ovsdb_error* error);

/* The deadline `timeout_ms` from now. time_msec() truncates to whole milliseconds, so the
 * start may be up to 1 ms later than it says: one more millisecond keeps "waited at least
 * timeout_ms" true. */
long long int bwfloor_shim_deadline(int timeout_ms);

int bwfloor_shim_wait_for_contents(struct ovsdb_idl* idl, long long int deadline, int timeout_ms,
                                   struct bwfloor_ovsdb_error* error);

/* Copies an Interface row (name, type, options:peer, ofport); free with
 * bwfloor_shim_interface_free(). */
void bwfloor_shim_copy_interface(const struct ovsrec_interface* row,
                                 struct bwfloor_ovsdb_interface* out);
void bwfloor_shim_interface_free(struct bwfloor_ovsdb_interface* iface);

/* ovsdb_qos_shim.c: the columns a QoS session replicates, and its snapshot of them (free with
 * bwfloor_ovsdb_qos_tables_free()). */
void bwfloor_shim_add_qos_columns(struct ovsdb_idl* idl);
void bwfloor_shim_copy_qos_tables(struct ovsdb_idl* idl, struct bwfloor_ovsdb_qos_tables* out);
