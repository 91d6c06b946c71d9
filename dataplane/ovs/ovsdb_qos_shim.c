/* OVSDB IDL shim, QoS tables: reads the Bridge/Port/Interface/QoS/Queue rows a QoS backend needs
 * (see ovsdb_idl_shim.h for the API and why a shim; ovsdb_qos_txn_shim.c writes them). GNU C. */
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

void bwfloor_shim_add_qos_columns(struct ovsdb_idl* idl) {
  ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_next_cfg);
  ovsdb_idl_add_column(idl, &ovsrec_open_vswitch_col_cur_cfg);
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_datapath_type);
  ovsdb_idl_add_column(idl, &ovsrec_bridge_col_ports);
  ovsdb_idl_add_column(idl, &ovsrec_port_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_port_col_interfaces);
  ovsdb_idl_add_column(idl, &ovsrec_port_col_qos);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_name);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_type);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_options);
  ovsdb_idl_add_column(idl, &ovsrec_interface_col_ofport);
  ovsdb_idl_add_column(idl, &ovsrec_qos_col_type);
  ovsdb_idl_add_column(idl, &ovsrec_qos_col_queues);
  ovsdb_idl_add_column(idl, &ovsrec_qos_col_other_config);
  ovsdb_idl_add_column(idl, &ovsrec_qos_col_external_ids);
  ovsdb_idl_add_column(idl, &ovsrec_queue_col_other_config);
  ovsdb_idl_add_column(idl, &ovsrec_queue_col_external_ids);
}

/* --- snapshot -------------------------------------------------------------------------------- */

static void format_uuid(const struct uuid* uuid, char out[BWFLOOR_OVSDB_UUID_LEN]) {
  snprintf(out, BWFLOOR_OVSDB_UUID_LEN, UUID_FMT, UUID_ARGS(uuid));
}

static void copy_smap(const struct smap* in, struct bwfloor_ovsdb_smap* out) {
  const size_t n = smap_count(in);
  const struct smap_node** nodes = smap_sort(in);
  out->keys = xcalloc(n ? n : 1, sizeof *out->keys);
  out->values = xcalloc(n ? n : 1, sizeof *out->values);
  out->n = n;
  for (size_t i = 0; i < n; i++) {
    out->keys[i] = xstrdup(nodes[i]->key);
    out->values[i] = xstrdup(nodes[i]->value);
  }
  free(nodes);
}

static void free_smap(struct bwfloor_ovsdb_smap* map) {
  for (size_t i = 0; i < map->n; i++) {
    free(map->keys[i]);
    free(map->values[i]);
  }
  free(map->keys);
  free(map->values);
  memset(map, 0, sizeof *map);
}

static void copy_port(const struct ovsrec_port* row, struct bwfloor_ovsdb_qos_port* out) {
  format_uuid(&row->header_.uuid, out->uuid);
  out->name = xstrdup(row->name);
  if (row->qos) {
    format_uuid(&row->qos->header_.uuid, out->qos);
  }
  out->n_interfaces = row->n_interfaces;
  out->interfaces = xcalloc(row->n_interfaces ? row->n_interfaces : 1, sizeof *out->interfaces);
  for (size_t i = 0; i < row->n_interfaces; i++) {
    bwfloor_shim_copy_interface(row->interfaces[i], &out->interfaces[i]);
  }
}

static void copy_bridges(struct ovsdb_idl* idl, struct bwfloor_ovsdb_qos_tables* out) {
  size_t n = 0;
  const struct ovsrec_bridge* br;
  OVSREC_BRIDGE_FOR_EACH(br, idl) { n++; }
  out->bridges = xcalloc(n ? n : 1, sizeof *out->bridges);
  OVSREC_BRIDGE_FOR_EACH(br, idl) {
    struct bwfloor_ovsdb_qos_bridge* b = &out->bridges[out->n_bridges++];
    b->name = xstrdup(br->name);
    b->datapath_type = xstrdup(br->datapath_type ? br->datapath_type : "");
    b->n_ports = br->n_ports;
    b->ports = xcalloc(br->n_ports ? br->n_ports : 1, sizeof *b->ports);
    for (size_t i = 0; i < br->n_ports; i++) {
      copy_port(br->ports[i], &b->ports[i]);
    }
  }
}

static void copy_qos(struct ovsdb_idl* idl, struct bwfloor_ovsdb_qos_tables* out) {
  size_t n = 0;
  const struct ovsrec_qos* qos;
  OVSREC_QOS_FOR_EACH(qos, idl) { n++; }
  out->qos = xcalloc(n ? n : 1, sizeof *out->qos);
  OVSREC_QOS_FOR_EACH(qos, idl) {
    struct bwfloor_ovsdb_qos_row* q = &out->qos[out->n_qos++];
    format_uuid(&qos->header_.uuid, q->uuid);
    q->type = xstrdup(qos->type ? qos->type : "");
    copy_smap(&qos->other_config, &q->other_config);
    copy_smap(&qos->external_ids, &q->external_ids);
    q->n_queues = qos->n_queues;
    q->queue_ids = xcalloc(qos->n_queues ? qos->n_queues : 1, sizeof *q->queue_ids);
    q->queue_uuids = xcalloc(qos->n_queues ? qos->n_queues : 1, sizeof *q->queue_uuids);
    for (size_t i = 0; i < qos->n_queues; i++) {
      q->queue_ids[i] = qos->key_queues[i];
      format_uuid(&qos->value_queues[i]->header_.uuid, q->queue_uuids[i]);
    }
  }

  const struct ovsrec_queue* queue;
  n = 0;
  OVSREC_QUEUE_FOR_EACH(queue, idl) { n++; }
  out->queues = xcalloc(n ? n : 1, sizeof *out->queues);
  OVSREC_QUEUE_FOR_EACH(queue, idl) {
    struct bwfloor_ovsdb_queue_row* q = &out->queues[out->n_queues++];
    format_uuid(&queue->header_.uuid, q->uuid);
    copy_smap(&queue->other_config, &q->other_config);
    copy_smap(&queue->external_ids, &q->external_ids);
  }
}

void bwfloor_shim_copy_qos_tables(struct ovsdb_idl* idl, struct bwfloor_ovsdb_qos_tables* out) {
  memset(out, 0, sizeof *out);
  copy_bridges(idl, out);
  copy_qos(idl, out);
}

void bwfloor_ovsdb_qos_tables_free(struct bwfloor_ovsdb_qos_tables* tables) {
  if (!tables) {
    return;
  }
  for (size_t b = 0; b < tables->n_bridges; b++) {
    struct bwfloor_ovsdb_qos_bridge* br = &tables->bridges[b];
    for (size_t p = 0; p < br->n_ports; p++) {
      struct bwfloor_ovsdb_qos_port* port = &br->ports[p];
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
  free(tables->bridges);
  for (size_t i = 0; i < tables->n_qos; i++) {
    struct bwfloor_ovsdb_qos_row* q = &tables->qos[i];
    free(q->type);
    free_smap(&q->other_config);
    free_smap(&q->external_ids);
    free(q->queue_ids);
    free(q->queue_uuids);
  }
  free(tables->qos);
  for (size_t i = 0; i < tables->n_queues; i++) {
    free_smap(&tables->queues[i].other_config);
    free_smap(&tables->queues[i].external_ids);
  }
  free(tables->queues);
  memset(tables, 0, sizeof *tables);
}

static void copy_qos_tables_to(struct ovsdb_idl* idl, void* out) {
  bwfloor_shim_copy_qos_tables(idl, out);
}

int bwfloor_ovsdb_qos_read(const char* remote, int timeout_ms, struct bwfloor_ovsdb_qos_tables* out,
                           struct bwfloor_ovsdb_error* error) {
  memset(out, 0, sizeof *out);
  return bwfloor_shim_read_snapshot(remote, timeout_ms, bwfloor_shim_add_qos_columns,
                                    copy_qos_tables_to, out, error);
}
