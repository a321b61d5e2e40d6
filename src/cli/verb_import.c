/* mecbench import: loads CSVs in the long format (the studies' tidy CSVs or
 * ours) into a results database, in one transaction. */
#include "cli.h"
#include "mec/results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench import [-d DB] [--experiment NAME] [--skip-bad] [--json] FILE.csv|DIR ...\n\n"
            "Loads latency and accuracy CSVs into a results database (default mecbench.db),\n"
            "all files in one transaction: a bad row rejects the import and is named by file\n"
            "and line. A directory imports every *.csv in it (e.g. ../shared/paper-data).\n\n"
            "  -d, --db PATH        results database (created if missing; default mecbench.db)\n"
            "  --experiment NAME    experiment for CSVs without a study/experiment column\n"
            "  --skip-bad           import the good rows, list the bad ones\n"
            "  --json               print the counts as JSON\n\n"
            "Latency CSV columns: study,model,operator,placement,latency_s [,request_index,\n"
            "input_id,input_bytes,pass,repetition,warmup,status,bw_mobile_edge_mbps,\n"
            "bw_edge_cloud_mbps,compute_mobile_s,compute_edge_s,compute_cloud_s,transfer_s,\n"
            "serialize_s,queue_s]. Accuracy CSV: study,model,operator,tier,metric,value.\n"
            "See docs/results-schema.md.\n");
}

int mec_cli_import(int argc, char **argv) {
    const char *db_path = "mecbench.db";
    mec_results_import_options opt = {.max_messages = 5};
    bool json = false;
    const char **files = calloc((size_t)argc, sizeof *files);
    int n_files = 0;
    if (!files) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(files);
            return 0;
        } else if ((!strcmp(a, "-d") || !strcmp(a, "--db")) && i + 1 < argc) {
            db_path = argv[++i];
        } else if (!strcmp(a, "--experiment") && i + 1 < argc) {
            opt.experiment = argv[++i];
        } else if (!strcmp(a, "--skip-bad")) {
            opt.skip_bad_rows = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mecbench import: unknown or incomplete option '%s' (see mecbench import --help)\n", a);
            free(files);
            return 2;
        } else {
            files[n_files++] = a;
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "mecbench import: no CSV files given (see mecbench import --help)\n");
        free(files);
        return 2;
    }
    /* expand directories into their CSV files */
    int cap = 64, n_paths = 0;
    char **paths = calloc((size_t)cap, sizeof *paths);
    int rc = 1;
    mec_results_db *db = NULL;
    for (int i = 0; i < n_files && paths; i++) {
        struct stat sb;
        if (stat(files[i], &sb) != 0) {
            fprintf(stderr, "mecbench import: %s: no such file or directory\n", files[i]);
            goto out;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (n_paths == cap) break;
            paths[n_paths++] = strdup(files[i]);
            continue;
        }
        static const char *known[] = {"accuracy.csv", "latency.csv", "latency_warmup.csv", "network_variation.csv"};
        int before = n_paths;
        for (size_t k = 0; k < sizeof known / sizeof known[0] && n_paths < cap; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", files[i], known[k]);
            if (stat(p, &sb) == 0) paths[n_paths++] = strdup(p);
        }
        if (n_paths == before) {
            fprintf(stderr, "mecbench import: %s: none of accuracy.csv, latency.csv, latency_warmup.csv, "
                            "network_variation.csv in this directory\n", files[i]);
            goto out;
        }
    }
    if (!paths) goto out;
    if (mec_results_open(db_path, true, &db)) {
        fprintf(stderr, "mecbench import: %s\n", mec_last_error());
        goto out;
    }
    mec_results_import_stats st;
    if (mec_results_import_csv(db, (const char *const *)paths, n_paths, &opt, &st)) {
        fprintf(stderr, "mecbench import: %s\n", mec_last_error());
        goto out;
    }
    if (json) {
        printf("{\"database\": \"%s\", \"files\": %d, \"requests\": %ld, \"accuracy\": %ld, \"skipped\": %ld, "
               "\"configurations_created\": %ld, \"experiments_created\": %ld}\n",
               db_path, n_paths, st.rows_requests, st.rows_accuracy, st.rows_skipped, st.configurations_created,
               st.experiments_created);
    } else {
        printf("imported %ld requests and %ld accuracy values from %d file(s) into %s "
               "(%ld new configurations, %ld new experiments)\n",
               st.rows_requests, st.rows_accuracy, n_paths, db_path, st.configurations_created, st.experiments_created);
        if (st.rows_skipped) printf("skipped %ld bad row(s): %s\n", st.rows_skipped, mec_last_error());
    }
    rc = 0;
out:
    mec_results_close(db);
    for (int i = 0; paths && i < n_paths; i++) free(paths[i]);
    free(paths);
    free(files);
    return rc;
}
