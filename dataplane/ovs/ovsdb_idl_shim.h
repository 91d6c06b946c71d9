#pragma once
/* C API of the OVSDB IDL shim (ovsdb_idl_shim.c). Includes no OVS header, so C++ can include it.
 *
 * Why a shim: lib/ovsdb-data.h and lib/ovsdb-idl.h name prototype parameters `new` and `class`,
 * and openvswitch/util.h's container macros (SMAP_FOR_EACH, HMAP_FOR_EACH, ...) expand to
 * `typeof`; OVS headers also must follow <config.h> and must not be wrapped in extern "C". So
 * ovsdb_idl_shim.c is the only file that includes them, and it hands out plain C structs.
 *
 * Internal to bwfloor_dataplane_ovs: use OvsdbBridgeReader (ovsdb_bridge_reader.h), not this. */

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

/* NOLINTEND(readability-identifier-naming,modernize-use-using) */

#ifdef __cplusplus
}
#endif
