/* mec/graph.h — layer 2: the model IR (values, nodes, attributes,
 * initializers), topological order, checks and a builder API. The structs are
 * public so that ops, runtime and operators can walk a graph directly; change
 * them only through the functions below so the name index stays valid. */
#ifndef MEC_GRAPH_H
#define MEC_GRAPH_H

#include "mec/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Numbered as ONNX's AttributeProto.AttributeType. */
typedef enum mec_attr_type {
    MEC_ATTR_UNDEFINED = 0,
    MEC_ATTR_FLOAT = 1,
    MEC_ATTR_INT = 2,
    MEC_ATTR_STRING = 3,
    MEC_ATTR_TENSOR = 4,
    MEC_ATTR_GRAPH = 5,
    MEC_ATTR_FLOATS = 6,
    MEC_ATTR_INTS = 7,
    MEC_ATTR_STRINGS = 8,
    MEC_ATTR_TENSORS = 9,
    MEC_ATTR_GRAPHS = 10,
} mec_attr_type;

typedef struct mec_graph mec_graph;

typedef struct mec_attr {
    char *name;
    mec_attr_type type;
    float f;           /* FLOAT */
    int64_t i;         /* INT */
    char *s;           /* STRING (NUL-terminated copy; s_len bytes, may hold NULs) */
    size_t s_len;
    mec_tensor *t;     /* TENSOR */
    mec_graph *g;      /* GRAPH: kept so a model round-trips; never executed */
    int64_t n;         /* element count of FLOATS / INTS / STRINGS / TENSORS / GRAPHS */
    float *floats;
    int64_t *ints;
    char **strings;
    mec_tensor **tensors;
    mec_graph **graphs;
} mec_attr;

/* A named tensor in the graph: graph input, initializer, or node output. */
typedef struct mec_value {
    char *name;
    mec_dtype dtype;                  /* MEC_UNDEFINED when not declared */
    int ndim;                         /* -1 when the rank is unknown */
    int64_t dims[MEC_MAX_DIMS];       /* -1 for an unknown (symbolic) dim */
    char *dim_names[MEC_MAX_DIMS];    /* dim_param ("batch", "seq"), or NULL */
    mec_tensor *init;                 /* initializer / constant data, or NULL */
    int producer;                     /* index of the producing node, -1 if none */
    bool is_input;                    /* a graph input (fed at run time) */
    bool is_output;                   /* a graph output */
    bool has_info;                    /* listed in value_info/input/output */
} mec_value;

typedef struct mec_node {
    char *name;       /* may be "" in ONNX files; messages then use the op and index */
    char *op_type;
    char *domain;     /* "" for the default ai.onnx domain */
    int n_in, n_out;
    int *in;          /* value indices; -1 for an omitted optional input */
    int *out;         /* value indices; -1 for an omitted optional output */
    int n_attr;
    mec_attr *attrs;
    char *doc;
} mec_node;

typedef struct mec_opset {
    char *domain; /* "" or "ai.onnx" for the default domain */
    int64_t version;
} mec_opset;

struct mec_graph {
    char *name;
    int n_values, cap_values;
    mec_value *values;
    int n_nodes, cap_nodes;
    mec_node *nodes;
    int n_inputs, n_outputs; /* graph inputs exclude initializers */
    int *inputs, *outputs;   /* value indices */
    int n_opsets;
    mec_opset *opsets;
    int64_t ir_version;
    int64_t model_version;
    char *producer_name, *producer_version, *model_domain, *doc;
    int n_meta;
    char **meta_keys, **meta_values;
    /* name -> value index (open addressing), private to graph.c */
    int *index;
    int index_cap;
};

mec_status mec_graph_create(const char *name, mec_graph **out);
void mec_graph_destroy(mec_graph *g);
/* Deep copy. */
mec_status mec_graph_clone(const mec_graph *g, mec_graph **out);

/* Value index by name, or -1. */
int mec_graph_find(const mec_graph *g, const char *name);
/* Finds or creates the value `name`; *id receives its index. */
mec_status mec_graph_value(mec_graph *g, const char *name, int *id);
/* Declares a graph input with type and shape (dims -1 = dynamic; dim_names
 * may be NULL). */
mec_status mec_graph_add_input(mec_graph *g, const char *name, mec_dtype dtype, int ndim,
                               const int64_t *dims, const char *const *dim_names, int *id);
/* Marks an existing or new value as a graph output. */
mec_status mec_graph_add_output(mec_graph *g, const char *name, int *id);
/* Adds an initializer; the graph takes ownership of t (also on failure). */
mec_status mec_graph_add_initializer(mec_graph *g, const char *name, mec_tensor *t, int *id);
/* Adds a node. Input names "" or NULL mean an omitted optional input. Output
 * values are created; an output that already has a producer is an error. */
mec_status mec_graph_add_node(mec_graph *g, const char *op_type, const char *domain,
                              const char *name, int n_in, const char *const *inputs, int n_out,
                              const char *const *outputs, int *node_id);
/* Sets the opset version imported for a domain ("" = ai.onnx). */
mec_status mec_graph_set_opset(mec_graph *g, const char *domain, int64_t version);
/* Opset version imported for domain, or 0 if not imported. */
int64_t mec_graph_opset(const mec_graph *g, const char *domain);

/* Attribute setters on node `node_id` (replace an existing attribute). */
mec_status mec_node_set_int(mec_graph *g, int node_id, const char *name, int64_t v);
mec_status mec_node_set_float(mec_graph *g, int node_id, const char *name, float v);
mec_status mec_node_set_string(mec_graph *g, int node_id, const char *name, const char *v);
mec_status mec_node_set_ints(mec_graph *g, int node_id, const char *name, int64_t n,
                             const int64_t *v);
mec_status mec_node_set_floats(mec_graph *g, int node_id, const char *name, int64_t n,
                               const float *v);
/* Takes ownership of t (also on failure). */
mec_status mec_node_set_tensor(mec_graph *g, int node_id, const char *name, mec_tensor *t);
/* Appends a fully built attribute (used by the loader); takes ownership of its contents. */
mec_status mec_node_add_attr(mec_graph *g, int node_id, mec_attr *attr);

/* Attribute getters. */
const mec_attr *mec_node_attr(const mec_node *n, const char *name);
int64_t mec_node_int(const mec_node *n, const char *name, int64_t dflt);
float mec_node_float(const mec_node *n, const char *name, float dflt);
const char *mec_node_string(const mec_node *n, const char *name, const char *dflt);
/* Count of an INTS/FLOATS attribute (and its data in *v), or -1 when absent. */
int64_t mec_node_ints(const mec_node *n, const char *name, const int64_t **v);
int64_t mec_node_floats(const mec_node *n, const char *name, const float **v);

/* "'Conv_12' (Conv)" or "#12 (Conv)" when unnamed, into buf; returns buf. */
const char *mec_node_label(const mec_graph *g, int node_id, char *buf, size_t n);

/* Recomputes producers, checks that every node input exists (graph input,
 * initializer or some node's output), each value has one producer, and
 * orders the nodes topologically (stable for already sorted graphs).
 * Errors name the node and value: a cycle, a missing input. */
mec_status mec_graph_toposort(mec_graph *g);

/* Removes nodes and initializers that no graph output depends on. */
mec_status mec_graph_prune(mec_graph *g);

/* Removes the nodes with remove[i] != 0 (compacting the node array, keeping
 * order) and recomputes producers. Values stay. */
mec_status mec_graph_remove_nodes(mec_graph *g, const char *remove);
/* Sets input `index` of a node to value id (-1 = omitted), growing the input
 * list with omitted inputs if needed. */
mec_status mec_node_set_input(mec_graph *g, int node_id, int index, int value);

void mec_attr_release(mec_attr *a);

#ifdef __cplusplus
}
#endif
#endif
