/* OVSDB IDL shim: the only file of bwfloor that includes libopenvswitch's headers (see
 * ovsdb_idl_shim.h for why). GNU C (gnu17): the OVS headers use `typeof`. */
/* clang-format off: OVS's <config.h> must precede every other include. */
#include <config.h>
/* clang-format on */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/ovs/ovsdb_idl_shim.h"
#include "dataplane/ovs/ovsdb_idl_shim_private.h"
#include "lib/fatal-signal.h"
#include "lib/ovsdb-idl.h"
#include "lib/smap.h"
#include "lib/stream.h"
#include "lib/timeval.h"
#include "lib/util.h"
#include "lib/vswitch-idl.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"

/* libopenvswitch keeps process-wide state (fatal-signal pipe, vlog, the RCU and poll-loop
 * machinery); bwfloor never runs two IDL sessions at once. */
static pthread_mutex_t shim_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t shim_once = PTHREAD_ONCE_INIT;

/* libopenvswitch's fatal-signal module installs its own handler for every one of these signals
 * that still has the default disposition, the first time poll_block() runs. That handler only
 * records the signal; the process would then terminate at the *next* OVS call, so an agent that
 * relies on the default SIGTERM/SIGINT action would stop reacting to them. Initialize the module
 * here, once, and put the dispositions back as they were. (Same list as lib/fatal-signal.c.) */
static const int ovs_fatal_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGALRM, SIGSEGV};

static void shim_init(void) {
  /* The library logs to the console at INFO by default ("connecting...", "connected"). */
  vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
  /* timeval warns about an "Unreasonably long poll interval" measured from one poll_block() to
   * the next; between two short sessions of an agent that is seconds of idling, not a stall. */
  struct vlog_module* timeval = vlog_module_from_name("timeval");
  if (timeval) { /* NULL would mean every module */
    vlog_set_levels(timeval, VLF_ANY_DESTINATION, VLL_ERR);
  }

  enum { N_SIGNALS = sizeof ovs_fatal_signals / sizeof ovs_fatal_signals[0] };
  struct sigaction saved[N_SIGNALS];
  for (size_t i = 0; i < N_SIGNALS; i++) {
    sigaction(ovs_fatal_signals[i], NULL, &saved[i]);
  }
  fatal_signal_init();
  for (size_t i = 0; i < N_SIGNALS; i++) {
    sigaction(ovs_fatal_signals[i], &saved[i], NULL);
  }
}

void bwfloor_shim_set_error(struct bwfloor_ovsdb_error* error, int sys_errno, const char* reason) {
  error->sys_errno = sys_errno > 0 ? sys_errno : 0;
  snprintf(error->reason, sizeof error->reason, "%s", reason);
}

/* Replicates only what the reader needs (not the Flow_Table, QoS, statistics ... columns). */
static void add_columns(struct ovsdb_idl* idl) {
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_datapath_type);
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
  ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
}

/* Why a session without retry ended before the contents arrived. */
static void set_session_error(struct ovsdb_idl* idl, int was_connected,
                              struct bwfloor_ovsdb_error* error) {
  const int err = ovsdb_idl_get_last_error(idl);
  if (!was_connected) {
    bwfloor_shim_set_error(error, err, "cannot connect");
  } else if (err > 0 && err != ENOENT) {
    bwfloor_shim_set_error(error, err, "connection lost before the Open_vSwitch database arrived");
  } else {
    /* The IDL hangs up (reported as ENOENT or nothing) when the server has no such database. */
    bwfloor_shim_set_error(
        error, 0, "the server closed the session without serving the Open_vSwitch database");
  }
}

long long int bwfloor_shim_deadline(int timeout_ms) { return time_msec() + timeout_ms + 1; }

int bwfloor_shim_wait_for_contents(struct ovsdb_idl* idl, long long int deadline, int timeout_ms,
                                   struct bwfloor_ovsdb_error* error) {
  int was_connected = 0;
  for (;;) {
    ovsdb_idl_run(idl);
    if (ovsdb_idl_has_ever_connected(idl)) {
      return BWFLOOR_OVSDB_OK;
    }
    was_connected |= ovsdb_idl_is_connected(idl);
    if (!ovsdb_idl_is_alive(idl)) {
      /* Opened without retry: the one session is over. */
      set_session_error(idl, was_connected, error);
      return BWFLOOR_OVSDB_UNAVAILABLE;
    }
    if (time_msec() >= deadline) {
      char reason[sizeof error->reason];
      snprintf(
          reason, sizeof reason, "no Open_vSwitch database contents within %d ms (%s)", timeout_ms,
          ovsdb_idl_is_connected(idl) ? "connected, the server did not answer" : "not connected");
      bwfloor_shim_set_error(error, 0, reason);
      return BWFLOOR_OVSDB_TIMEOUT;
    }
    ovsdb_idl_wait(idl);
    poll_timer_wait_until(deadline);
    poll_block();
  }
}

void bwfloor_shim_copy_interface(const struct ovsrec_interface* row,
                                 struct bwfloor_ovsdb_interface* out) {
  out->name = xstrdup(row->name);
  out->type = xstrdup(row->type ? row->type : "");
  const char* peer = smap_get(&row->options, "peer");
  out->peer = xstrdup(peer ? peer : "");
  out->has_ofport = row->n_ofport > 0;
  out->ofport = row->n_ofport > 0 ? row->ofport[0] : 0;
}

void bwfloor_shim_interface_free(struct bwfloor_ovsdb_interface* iface) {
  free(iface->name);
  free(iface->type);
  free(iface->peer);
}

static void copy_port(const struct ovsrec_port* row, struct bwfloor_ovsdb_port* out) {
  out->name = xstrdup(row->name);
  out->n_interfaces = row->n_interfaces;
  out->interfaces = xcalloc(row->n_interfaces ? row->n_interfaces : 1, sizeof *out->interfaces);
  for (size_t i = 0; i < row->n_interfaces; i++) {
    bwfloor_shim_copy_interface(row->interfaces[i], &out->interfaces[i]);
  }
}

static void copy_bridges(struct ovsdb_idl* idl, struct bwfloor_ovsdb_bridges* out) {
  size_t n = 0;
  const struct ovsrec_bridge* br;
  OVSREC_BRIDGE_FOR_EACH(br, idl) { n++; }
  out->bridges = xcalloc(n ? n : 1, sizeof *out->bridges);
  /* Bridge is not a root table: every row left is referenced by Open_vSwitch.bridges. */
  OVSREC_BRIDGE_FOR_EACH(br, idl) {
    struct bwfloor_ovsdb_bridge* b = &out->bridges[out->n_bridges++];
    b->name = xstrdup(br->name);
    b->datapath_type = xstrdup(br->datapath_type ? br->datapath_type : "");
    b->n_ports = br->n_ports;
    b->ports = xcalloc(br->n_ports ? br->n_ports : 1, sizeof *b->ports);
    for (size_t i = 0; i < br->n_ports; i++) {
      copy_port(br->ports[i], &b->ports[i]);
    }
  }
}

/* libopenvswitch writes to its socket with send(2) without MSG_NOSIGNAL: if ovsdb-server goes
 * away mid-session the kernel raises SIGPIPE, which would kill a process that did not ignore it.
 * Block it in this thread for the duration and discard one that became pending meanwhile. */
static void sigpipe_block(struct bwfloor_shim_session* guard) {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  guard->active = pthread_sigmask(SIG_BLOCK, &pipe_set, &guard->old_mask) == 0 &&
                  !sigismember(&guard->old_mask, SIGPIPE);
  sigset_t pending;
  guard->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
}

static void sigpipe_restore(struct bwfloor_shim_session* guard) {
  if (!guard->active) {
    return;
  }
  sigset_t pending;
  if (!guard->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &guard->old_mask, NULL);
}

int bwfloor_shim_enter(const char* remote, struct bwfloor_shim_session* session,
                       struct bwfloor_ovsdb_error* error) {
  memset(session, 0, sizeof *session);
  pthread_once(&shim_once, shim_init);
  /* Only active remotes: a "punix:" remote would make the IDL listen instead of connect. */
  const int verify = remote ? stream_verify_name(remote) : EINVAL;
  if (verify) {
    bwfloor_shim_set_error(error, 0,
                           "not an active OVSDB remote (expected unix:PATH or tcp:IP:PORT)");
    return BWFLOOR_OVSDB_BAD_REMOTE;
  }
  pthread_mutex_lock(&shim_mutex);
  sigpipe_block(session);
  session->entered = 1;
  return BWFLOOR_OVSDB_OK;
}

void bwfloor_shim_leave(struct bwfloor_shim_session* session) {
  if (!session->entered) {
    return;
  }
  sigpipe_restore(session);
  pthread_mutex_unlock(&shim_mutex);
  session->entered = 0;
}

int bwfloor_shim_read_snapshot(const char* remote, int timeout_ms,
                               bwfloor_shim_columns_fn add_columns, bwfloor_shim_copy_fn copy,
                               void* out, struct bwfloor_ovsdb_error* error) {
  memset(error, 0, sizeof *error);
  if (timeout_ms < 1) {
    timeout_ms = 1;
  }
  struct bwfloor_shim_session session;
  const int entered = bwfloor_shim_enter(remote, &session, error);
  if (entered != BWFLOOR_OVSDB_OK) {
    return entered;
  }
  /* No retry: fail fast when the socket is missing; callers retry with their own backoff. */
  struct ovsdb_idl* idl = ovsdb_idl_create(remote, &ovsrec_idl_class, false, false);
  add_columns(idl);
  const int status =
      bwfloor_shim_wait_for_contents(idl, bwfloor_shim_deadline(timeout_ms), timeout_ms, error);
  if (status == BWFLOOR_OVSDB_OK) {
    copy(idl, out);
  }
  ovsdb_idl_destroy(idl);
  bwfloor_shim_leave(&session);
  return status;
}

static void copy_bridges_to(struct ovsdb_idl* idl, void* out) { copy_bridges(idl, out); }

int bwfloor_ovsdb_read_bridges(const char* remote, int timeout_ms,
                               struct bwfloor_ovsdb_bridges* out,
                               struct bwfloor_ovsdb_error* error) {
  memset(out, 0, sizeof *out);
  return bwfloor_shim_read_snapshot(remote, timeout_ms, add_columns, copy_bridges_to, out, error);
}

void bwfloor_ovsdb_bridges_free(struct bwfloor_ovsdb_bridges* bridges) {
  if (!bridges) {
    return;
  }
  for (size_t b = 0; b < bridges->n_bridges; b++) {
    struct bwfloor_ovsdb_bridge* br = &bridges->bridges[b];
    for (size_t p = 0; p < br->n_ports; p++) {
      struct bwfloor_ovsdb_port* port = &br->ports[p];
      for (size_t i = 0; i < port->n_interfaces; i++) {
        bwfloor_shim_interface_free(&port->interfaces[i]);
      }
      free(port->interfaces);
      free(port->name);
    }
    free(br->ports);
    free(br->name);
    free(br->datapath_type);
  }
  free(bridges->bridges);
  bridges->bridges = NULL;
  bridges->n_bridges = 0;
}
