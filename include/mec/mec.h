/* mec/mec.h — the whole mecbench library: one include for applications.
 * Each layer also has its own header; a layer uses only those above it. */
#ifndef MEC_MEC_H
#define MEC_MEC_H

#include "mec/core.h"     /* 1  status, allocator, tensors, threads, time */
#include "mec/graph.h"    /* 2  model IR and builder */
#include "mec/onnx.h"     /* 2  ONNX load/save, tensor files */
#include "mec/ops.h"      /* 3  kernel interface and registry */
#include "mec/runtime.h"  /* 4  sessions */
#include "mec/data.h"     /* 6  images, datasets, tokenizer, metrics */
#include "mec/results.h"  /* 9  results database */
#include "mec/analysis.h" /* 10 statistics, speed-ups, Pareto, recommendation */
#include "mec/report.h"   /* 10 HTML/SVG, Markdown, CSV, LaTeX */

#endif
