/* mec/report.h — layer 10: the report. One self-contained HTML page (inline
 * SVG plots drawn by our own code, no scripts or fonts fetched from
 * anywhere) and the same tables as Markdown, CSV and LaTeX. */
#ifndef MEC_REPORT_H
#define MEC_REPORT_H

#include "mec/analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mec_report_options {
    const char *title;  /* page title; default "mecbench report" */
    const char *source; /* where the data came from, shown on the page */
    double percentile;  /* latency percentile of the Pareto plots; default 95 */
} mec_report_options;

/* Writes `path` (atomically): findings, latency distributions (box plots, log
 * scale) per model, Pareto scatter per model, per-model speed-up bars, the
 * network-variation heat maps when the set holds input_set "network", a
 * stacked latency breakdown when breakdown columns were recorded, and the
 * tables with effect-size marks. Every plot is an <svg class="plot">. */
mec_status mec_report_html(const mec_results_set *set, const mec_analysis *an, const mec_recommendation *rec,
                           const mec_report_options *opt, const char *path);

typedef enum mec_report_format { MEC_REPORT_MARKDOWN, MEC_REPORT_CSV, MEC_REPORT_LATEX } mec_report_format;
/* The tables (headline speed-ups, speed-ups over the unmodified model,
 * accuracy loss, every pairwise comparison with Cliff's delta) in one format,
 * written atomically to `path`. */
mec_status mec_report_tables(const mec_analysis *an, mec_report_format fmt, const char *path);

/* Number of plots the last mec_report_html call drew (for tests). */
int mec_report_last_plot_count(void);

#ifdef __cplusplus
}
#endif
#endif
