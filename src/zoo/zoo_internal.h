/* Shared by the zoo's builders: a graph-building context with a sticky
 * status (the first error stops every later call, so builders read as
 * straight-line code and check once at the end), deterministic weight
 * generation, and parameter/MAC accounting. */
#ifndef MEC_ZOO_INTERNAL_H
#define MEC_ZOO_INTERNAL_H

#include "mec/zoo.h"

#define ZB_NAME_MAX 256
#define ZB_NAME_RING 16

typedef enum zb_init {
    ZB_ZEROS,
    ZB_ONES,
    ZB_CONST,   /* every element = a */
    ZB_NORMAL,  /* N(0, a²) */
    ZB_UNIFORM, /* U(-a, a) */
} zb_init;

typedef struct zb {
    mec_graph *g;     /* NULL in count-only mode */
    uint64_t seed;
    mec_status st;    /* first error */
    int64_t params;   /* trainable elements */
    int64_t macs;
    char ring[ZB_NAME_RING][ZB_NAME_MAX];
    int ring_pos;
    int last_node;    /* the node zb_int etc. apply to (-1 none) */
    /* comma-separated stage and block outputs, grown as built */
    char *stages, *blocks;
    size_t stages_len, blocks_len;
} zb;

/* Count-only when graph_name is NULL: nothing is allocated for weights or
 * nodes, only params and macs are summed. */
mec_status zb_begin(zb *b, const char *graph_name, uint64_t seed);
/* Frees the context; on success (and with a graph) hands it to *out. */
mec_status zb_end(zb *b, mec_graph **out);

/* printf into a ring buffer: valid for the next ZB_NAME_RING calls. */
const char *zb_name(zb *b, const char *fmt, ...) MEC_PRINTF(2, 3);

/* A float initializer filled by init; trainable ones count as parameters. */
void zb_param(zb *b, const char *name, int ndim, const int64_t *shape, zb_init init, float a,
              bool trainable);
/* Constants (not parameters). */
void zb_const_f32(zb *b, const char *name, float v); /* a scalar */
void zb_const_i64(zb *b, const char *name, int n, const int64_t *v); /* 1-D; n < 0: a scalar */

/* Adds a node whose single output value is named `out` (the node gets the
 * same name unless node_name is given); returns out for chaining. */
const char *zb_node(zb *b, const char *op, const char *node_name, const char *out, int n_in,
                    const char *const *in);
/* Attribute setters on the node added last. */
void zb_int(zb *b, const char *name, int64_t v);
void zb_ints(zb *b, const char *name, int n, const int64_t *v);
void zb_float(zb *b, const char *name, float v);
void zb_string(zb *b, const char *name, const char *v);

/* Marks value `name` a graph output of type float32 with these dims (-1
 * with a dim_param name for dynamic ones). */
void zb_output(zb *b, const char *name, int ndim, const int64_t *dims, const char *const *dim_names);

void zb_meta(zb *b, const char *key, const char *value);
void zb_mark_stage(zb *b, const char *value);
void zb_mark_block(zb *b, const char *value);

/* Fills n floats from a stream keyed by (seed, name). */
void zb_fill(float *dst, int64_t n, uint64_t seed, const char *name, zb_init init, float a);

#endif
