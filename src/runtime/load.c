/* Sessions from ONNX files: the session owns the loaded graph. */
#include "mec/onnx.h"
#include "mec/runtime.h"
#include "runtime_internal.h"

mec_status mec_sess_load(const char *path, const mec_sess_options *opt, mec_sess **out) {
    *out = NULL;
    double t0 = mec_now_ms();
    mec_graph *g = NULL;
    mec_status st = mec_onnx_load(path, &g);
    if (st) return st;
    st = mec_sess_create_owned(g, opt, out);
    if (st) return mec_error_prefix(st, "%s: ", path);
    mec_sess_set_load_ms(*out, mec_now_ms() - t0);
    return MEC_OK;
}
