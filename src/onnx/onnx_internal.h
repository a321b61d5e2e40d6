/* Private helpers shared by the ONNX loader, saver and tensor file I/O:
 * protobuf-c allocator over mec_malloc, a wire-format pre-check (bounded
 * nesting), TensorProto <-> mec_tensor, and a small arena for building
 * messages to pack. */
#ifndef MEC_ONNX_INTERNAL_H
#define MEC_ONNX_INTERNAL_H

#include "mec/onnx.h"
#include "onnx.pb-c.h"

/* protobuf-c allocator that uses mec_malloc/mec_free. */
ProtobufCAllocator *mec_onnx_pb_allocator(void);
/* Whether an allocation through it failed since the last reset (on this
 * thread): an unpack that returned NULL then ran out of memory. */
void mec_onnx_pb_alloc_reset(void);
bool mec_onnx_pb_alloc_failed(void);

/* Walks the protobuf wire format of buf as message type desc without
 * building it: checks every tag, length and varint and that messages nest at
 * most MEC_ONNX_MAX_DEPTH deep (protobuf-c's unpack recurses). Returns
 * MEC_ERR_PARSE with a message (no file prefix) on the first problem. */
mec_status mec_onnx_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                               size_t len);

/* Builds a tensor from a TensorProto. `what` names it in messages
 * ("initializer 'W'"); base_dir is where external data lives (NULL: refused).
 * Messages carry no file prefix. */
/* Large initializers read from a file straight into tensors (onnx_stream.c). */
typedef struct mec_onnx_streamed {
    char *name;
    mec_tensor *tensor;
} mec_onnx_streamed;

/* Splits the ONNX file open on fd into a skeleton ModelProto without its
 * large initializers, and those initializers as tensors. *handled = false
 * (and MEC_OK) when the file is better parsed whole: nothing large, or a
 * layout this reader does not expect (the whole-file parser then reports
 * any error). */
mec_status mec_onnx_stream_split(int fd, uint64_t size, const char *label, void **skeleton,
                                 size_t *skeleton_len, mec_onnx_streamed **streamed, int *n_streamed,
                                 bool *handled);
void mec_onnx_streamed_free(mec_onnx_streamed *s, int n);

mec_status mec_onnx_tensor_take_proto(Onnx__TensorProto *tp, const char *base_dir,
                                      const char *what, mec_tensor **out);
mec_status mec_onnx_tensor_from_proto(const Onnx__TensorProto *tp, const char *base_dir,
                                      const char *what, mec_tensor **out);

/* An arena of blocks freed together: every message built for packing lives
 * in one, so a failed build frees everything at once. */
typedef struct mec_onnx_arena {
    void *head;
} mec_onnx_arena;

void *mec_onnx_arena_alloc(mec_onnx_arena *a, size_t bytes); /* zeroed; NULL on failure */
char *mec_onnx_arena_strdup(mec_onnx_arena *a, const char *s);
void mec_onnx_arena_free(mec_onnx_arena *a);

/* Fills tp (already initialised) from t: name, dims, data_type, raw_data
 * (points into t's data when contiguous, else an arena copy). */
mec_status mec_onnx_tensor_to_proto(mec_onnx_arena *a, const mec_tensor *t, const char *name,
                                    Onnx__TensorProto *tp);

#endif
