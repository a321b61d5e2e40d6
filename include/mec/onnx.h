/* mec/onnx.h — layer 2: load and save ONNX models (ModelProto <-> mec_graph)
 * and read/write single tensors in the formats `mecbench infer` takes:
 * ONNX TensorProto (.pb), NumPy (.npy) and raw little-endian bytes. */
#ifndef MEC_ONNX_H
#define MEC_ONNX_H

#include "mec/core.h"
#include "mec/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest model file we read or write in one protobuf (protobuf's own limit);
 * bigger models keep their weights in external data files. */
#define MEC_ONNX_MAX_PROTO_BYTES ((size_t)INT32_MAX)
/* Deepest nesting of messages (graphs in attributes in graphs ...) accepted. */
#define MEC_ONNX_MAX_DEPTH 64

/* ------------------------------------------------------------------ load */

/* Loads an ONNX model: metadata, opsets, initializers (raw, typed or external
 * data read relative to the model's folder), inputs, outputs, value_info and
 * nodes with all attributes (subgraphs kept for round-trip), then checks the
 * graph with mec_graph_toposort. Every error names the file and the field. */
mec_status mec_onnx_load(const char *path, mec_graph **out);
/* The same from memory. base_dir is where external data files are looked
 * for (NULL: external data is refused); label prefixes messages (a file
 * name; NULL means "model"). */
mec_status mec_onnx_load_buffer(const void *buf, size_t len, const char *base_dir,
                                const char *label, mec_graph **out);

/* ------------------------------------------------------------------ save */

typedef struct mec_onnx_save_options {
    /* Tensors (initializers) larger than this many bytes go to one external
     * data file "<model file name>.data" beside the model; 0 = never. Needed
     * for models over protobuf's 2 GB limit. */
    size_t external_threshold_bytes;
} mec_onnx_save_options;

/* Writes g as an ONNX model (raw_data for every tensor), atomically. */
mec_status mec_onnx_save(const mec_graph *g, const char *path);
mec_status mec_onnx_save_ex(const mec_graph *g, const char *path,
                            const mec_onnx_save_options *opt);
/* Serialises g into a new buffer (mec_free it). */
mec_status mec_onnx_save_buffer(const mec_graph *g, void **buf, size_t *len);

/* ---------------------------------------------------------- tensor files */

/* ONNX TensorProto (.pb), as in test_data_set_N/input_N.pb. *name (may be
 * NULL) receives a copy of the tensor's name ("" if none; mec_free it).
 * String tensors give MEC_ERR_UNSUPPORTED. */
mec_status mec_tensor_load_pb(const char *path, mec_tensor **out, char **name);
mec_status mec_tensor_load_pb_buffer(const void *buf, size_t len, const char *label,
                                     mec_tensor **out, char **name);
/* Writes t (any strides) as a TensorProto with raw_data, atomically. name may
 * be NULL. */
mec_status mec_tensor_save_pb(const char *path, const mec_tensor *t, const char *name);

/* NumPy .npy, versions 1.0/2.0/3.0, little-endian (or 1-byte) dtypes
 * f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, C order only. */
mec_status mec_tensor_load_npy(const char *path, mec_tensor **out);
mec_status mec_tensor_load_npy_buffer(const void *buf, size_t len, const char *label,
                                      mec_tensor **out);
/* Writes t as .npy version 1.0 (2.0 when the header needs it), atomically. */
mec_status mec_tensor_save_npy(const char *path, const mec_tensor *t);

/* Raw little-endian elements of the given type and shape; the file size must
 * equal numel x element size. */
mec_status mec_tensor_load_raw(const char *path, mec_dtype dtype, int ndim, const int64_t *shape,
                               mec_tensor **out);

#ifdef __cplusplus
}
#endif
#endif
