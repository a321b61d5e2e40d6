/* libFuzzer target for the ONNX loader: any byte string must give a graph or
 * an error, never a crash, a hang or a leak. */
#include "mec/graph.h"
#include "mec/onnx.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mec_graph *g = NULL;
    if (mec_onnx_load_buffer(data, size, NULL, "fuzz.onnx", &g) == MEC_OK) {
        /* What loads must also save. */
        void *buf = NULL;
        size_t len = 0;
        if (mec_onnx_save_buffer(g, &buf, &len) == MEC_OK) mec_free(buf);
        mec_graph_destroy(g);
    }
    return 0;
}
