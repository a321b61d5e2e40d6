/* mec/results.h — layer 9 (experiment): the results database. One SQLite file
 * holds experiments, configurations, one row per request and accuracy values;
 * docs/results-schema.md documents the schema for users of the sqlite3 shell.
 * The experiment runner writes it; `mecbench import` loads CSVs into it. */
#ifndef MEC_RESULTS_H
#define MEC_RESULTS_H

#include "mec/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version this build writes and reads; a newer file is refused. */
#define MEC_RESULTS_SCHEMA_VERSION 1

typedef struct mec_results_db mec_results_db;

/* Opens (create = true: creates if missing, with the schema) a results
 * database. ":memory:" gives a private in-memory database. Refuses a file
 * whose schema version is newer than this build or that is not ours. */
mec_status mec_results_open(const char *path, bool create, mec_results_db **out);
void mec_results_close(mec_results_db *db);
int mec_results_schema_version(const mec_results_db *db);

/* ------------------------------------------------------------------ import */

typedef struct mec_results_import_options {
    const char *experiment; /* used when the CSV has no study/experiment column */
    bool skip_bad_rows;     /* false: any bad row rejects the whole import */
    int max_messages;       /* bad rows listed in the message (default 20) */
} mec_results_import_options;

typedef struct mec_results_import_stats {
    long rows_requests, rows_accuracy, rows_skipped;
    long configurations_created, experiments_created;
} mec_results_import_stats;

/* Imports CSV files in the long format (the studies' tidy CSVs or any CSV
 * with the same columns: see docs/results-schema.md) in ONE transaction: on
 * any error nothing is written. The kind of each file is told by its header:
 * `metric` + `value` = accuracy, `latency_s` = requests. Bad rows are named
 * by file and line in the message. `stats` may be NULL. */
mec_status mec_results_import_csv(mec_results_db *db, const char *const *paths, int n_paths,
                                  const mec_results_import_options *opt,
                                  mec_results_import_stats *stats);

/* ------------------------------------------------------------------- query */

enum {
    MEC_BREAKDOWN_COMPUTE_MOBILE,
    MEC_BREAKDOWN_COMPUTE_EDGE,
    MEC_BREAKDOWN_COMPUTE_CLOUD,
    MEC_BREAKDOWN_TRANSFER,
    MEC_BREAKDOWN_SERIALIZE,
    MEC_BREAKDOWN_QUEUE,
    MEC_BREAKDOWN_COUNT
};
/* Column names of the breakdown parts in table `requests` ("compute_mobile_s" ...). */
const char *mec_results_breakdown_column(int part);

/* One configuration's analysed requests (status ok, not warm-up). */
typedef struct mec_results_group {
    int64_t config_id;
    char *experiment, *model, *operators, *placement, *input_set;
    double bw_mobile_edge_mbps, bw_edge_cloud_mbps; /* NaN when not recorded */
    size_t n;
    double *latency_s;       /* in request order */
    int64_t *request_index;  /* same order; equal index mod inputs = same input */
    double breakdown_s[MEC_BREAKDOWN_COUNT]; /* mean seconds per part; NaN when never recorded */
} mec_results_group;

typedef struct mec_results_accuracy {
    char *experiment, *model, *variant, *placement, *metric;
    double value;
} mec_results_accuracy;

typedef struct mec_results_set {
    size_t n_groups;
    mec_results_group *groups;   /* sorted by experiment, input set, model, placement, operators */
    size_t n_accuracy;
    mec_results_accuracy *accuracy;
} mec_results_set;

typedef struct mec_results_filter {
    const char *experiment; /* NULL = all */
    const char *model;      /* NULL = all */
    const char *input_set;  /* NULL = all; the studies' main runs are "main", bandwidth sweeps "network" */
    bool include_warmup;
} mec_results_filter;

mec_status mec_results_load(mec_results_db *db, const mec_results_filter *filter,
                            mec_results_set **out);
void mec_results_set_destroy(mec_results_set *set);

/* Convenience for `analyze FILE.csv|DIR`: imports CSVs (a directory: its
 * latency.csv, latency_warmup.csv, network_variation.csv, accuracy.csv and
 * any other *.csv) into an in-memory database and returns it. */
mec_status mec_results_open_csv(const char *const *paths, int n_paths, mec_results_db **out);

/* A results database file, or CSV files / directories (imported into memory,
 * as mec_results_open_csv): what `analyze`, `recommend` and `report` take. */
mec_status mec_results_open_source(const char *const *paths, int n_paths, mec_results_db **out);

/* Placements we know: mobile, edge, cloud, mobile-edge, edge-cloud, mobile-cloud. */
bool mec_results_placement_valid(const char *placement);
/* Number of tiers of a placement (1 or 2), 0 if unknown. */
int mec_results_placement_tiers(const char *placement);

#ifdef __cplusplus
}
#endif
#endif
