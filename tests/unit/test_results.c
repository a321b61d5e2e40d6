/* results database: schema and version, CSV import in one transaction, bad
 * rows named by line, loading groups and accuracy. */
#include "mec/results.h"
#include "test.h"

#include <sqlite3.h>
#include <unistd.h>

static char dir[256];

static const char *write_file(const char *name, const char *text) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

static void test_import_and_load(void) {
    const char *lat = write_file("lat.csv",
                                 "study,model,operator,placement,request_index,latency_s\n"
                                 "s1,m1,identity,edge,100,2.0\n"
                                 "s1,m1,identity,edge,101,4.0\n"
                                 "s1,m1,identity,edge,102,3.0\n"
                                 "s1,m1,sptq,edge,100,1.0\n"
                                 "s1,m1,sptq,edge,101,1.5\n");
    const char *acc = write_file("acc.csv",
                                 "study,model,operator,tier,metric,value\n"
                                 "s1,m1,identity,edge,top1,80.5\n"
                                 "s1,m1,sptq,edge,top1,79.25\n");
    char db_path[512];
    snprintf(db_path, sizeof db_path, "%s/r.db", dir);
    mec_results_db *db = NULL;
    CHECK_OK(mec_results_open(db_path, true, &db));
    CHECK(mec_results_schema_version(db) == MEC_RESULTS_SCHEMA_VERSION);
    const char *paths[] = {lat, acc};
    mec_results_import_stats st;
    CHECK_OK(mec_results_import_csv(db, paths, 2, NULL, &st));
    CHECK(st.rows_requests == 5 && st.rows_accuracy == 2 && st.configurations_created == 2 && st.experiments_created == 1);
    mec_results_set *set = NULL;
    CHECK_OK(mec_results_load(db, NULL, &set));
    if (set) {
        CHECK(set->n_groups == 2 && set->n_accuracy == 2);
        CHECK_STR(set->groups[0].operators, "identity"); /* identity sorts first */
        CHECK(set->groups[0].n == 3);
        CHECK(set->groups[0].latency_s[1] == 4.0 && set->groups[0].request_index[2] == 102);
        CHECK(isnan(set->groups[0].breakdown_s[0]));
        CHECK(set->accuracy[0].value == 80.5 || set->accuracy[1].value == 80.5);
    }
    mec_results_set_destroy(set);
    /* importing the same file again: rejected, nothing written */
    CHECK(mec_results_import_csv(db, paths, 1, NULL, &st) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "lat.csv:2:") != NULL);
    CHECK(strstr(mec_last_error(), "already in the database") != NULL);
    mec_results_close(db);
    /* the sqlite3 shell sees the documented schema */
    sqlite3 *raw;
    CHECK(sqlite3_open(db_path, &raw) == SQLITE_OK);
    sqlite3_stmt *s;
    CHECK(sqlite3_prepare_v2(raw, "SELECT COUNT(*), SUM(latency_s) FROM requests", -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK(sqlite3_column_int(s, 0) == 5);
    CHECK_NEAR(sqlite3_column_double(s, 1), 11.5, 1e-12);
    sqlite3_finalize(s);
    /* a future schema version is refused with a clear message */
    sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(raw);
    CHECK(mec_results_open(db_path, false, &db) == MEC_ERR_UNSUPPORTED);
    CHECK(strstr(mec_last_error(), "version 99 is newer") != NULL);
}

static void test_bad_rows(void) {
    mec_results_db *db = NULL;
    CHECK_OK(mec_results_open(":memory:", true, &db));
    const char *bad = write_file("bad.csv",
                                 "study,model,operator,placement,latency_s\n"
                                 "s,m,identity,edge,1.0\n"
                                 "s,m,identity,moon,1.0\n"
                                 "s,m,identity,edge,nan\n"
                                 "s,m,identity,edge,-2\n"
                                 "s,m,identity,edge\n"
                                 "s,m,identity,edge,abc\n");
    const char *paths[] = {bad};
    mec_results_import_stats st;
    CHECK(mec_results_import_csv(db, paths, 1, NULL, &st) == MEC_ERR_PARSE);
    const char *msg = mec_last_error();
    CHECK(strstr(msg, "5 bad row(s), nothing imported") != NULL);
    CHECK(strstr(msg, "bad.csv:3: placement 'moon' is not one of") != NULL);
    CHECK(strstr(msg, "bad.csv:4: latency_s 'nan' is not a number") != NULL);
    CHECK(strstr(msg, "bad.csv:5: latency_s -2 is negative") != NULL);
    CHECK(strstr(msg, "bad.csv:6: 4 fields, the header has 5") != NULL);
    CHECK(strstr(msg, "bad.csv:7: latency_s 'abc'") != NULL);
    mec_results_set *set = NULL;
    CHECK_OK(mec_results_load(db, NULL, &set));
    CHECK(set && set->n_groups == 0); /* the good row was rolled back too */
    mec_results_set_destroy(set);
    mec_results_import_options opt = {.skip_bad_rows = true};
    CHECK_OK(mec_results_import_csv(db, paths, 1, &opt, &st));
    CHECK(st.rows_requests == 1 && st.rows_skipped == 5);
    /* missing columns */
    const char *nocol = write_file("nocol.csv", "study,model,placement\ns,m,edge\n");
    const char *p2[] = {nocol};
    CHECK(mec_results_import_csv(db, p2, 1, NULL, NULL) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "missing column(s): operator, latency_s") != NULL);
    const char *empty = write_file("empty.csv", "");
    const char *p3[] = {empty};
    CHECK(mec_results_import_csv(db, p3, 1, NULL, NULL) == MEC_ERR_PARSE);
    const char *p4[] = {"/nonexistent/x.csv"};
    CHECK(mec_results_import_csv(db, p4, 1, NULL, NULL) != MEC_OK);
    mec_results_close(db);
    /* not our database */
    char other[512];
    snprintf(other, sizeof other, "%s/other.db", dir);
    sqlite3 *raw;
    sqlite3_open(other, &raw);
    sqlite3_exec(raw, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(raw);
    CHECK(mec_results_open(other, false, &db) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "not a mecbench results database") != NULL);
    CHECK(mec_results_open("/nonexistent/r.db", false, &db) == MEC_ERR_NOT_FOUND);
}

static void test_breakdown_and_network(void) {
    mec_results_db *db = NULL;
    CHECK_OK(mec_results_open(":memory:", true, &db));
    const char *f = write_file("bd.csv",
                               "experiment,model,operators,placement,latency_s,compute_mobile_s,transfer_s,status,warmup\n"
                               "e,m,partition,mobile-edge,1.0,0.4,0.5,ok,0\n"
                               "e,m,partition,mobile-edge,3.0,0.6,,ok,0\n"
                               "e,m,partition,mobile-edge,9.0,0.6,,timeout,0\n"
                               "e,m,partition,mobile-edge,7.0,0.6,,ok,1\n");
    const char *nv = write_file("nv.csv",
                                "study,model,operator,placement,bw_mobile_edge_mbps,bw_edge_cloud_mbps,repetition,latency_s\n"
                                "e,m,identity,cloud,10,1,0,5.0\n"
                                "e,m,identity,cloud,10,1,1,2.0\n"
                                "e,m,identity,cloud,10,200,1,1.0\n");
    const char *paths[] = {f, nv};
    CHECK_OK(mec_results_import_csv(db, paths, 2, NULL, NULL));
    mec_results_set *set = NULL;
    mec_results_filter main_only = {.input_set = "main"};
    CHECK_OK(mec_results_load(db, &main_only, &set));
    if (set && set->n_groups == 1) {
        const mec_results_group *g = &set->groups[0];
        CHECK(g->n == 2); /* the timeout and the warm-up request are not analysed */
        CHECK_NEAR(g->breakdown_s[MEC_BREAKDOWN_COMPUTE_MOBILE], 0.5, 1e-12);
        CHECK_NEAR(g->breakdown_s[MEC_BREAKDOWN_TRANSFER], 0.5, 1e-12);
        CHECK(isnan(g->breakdown_s[MEC_BREAKDOWN_QUEUE]));
    } else {
        CHECK(0);
    }
    mec_results_set_destroy(set);
    mec_results_filter net = {.input_set = "network"};
    CHECK_OK(mec_results_load(db, &net, &set));
    if (set) {
        CHECK(set->n_groups == 2);
        CHECK(set->groups[0].n == 1 && set->groups[0].latency_s[0] == 2.0); /* repetition 0 is warm-up */
        CHECK(set->groups[0].bw_mobile_edge_mbps == 10 && set->groups[0].bw_edge_cloud_mbps == 1);
    }
    mec_results_set_destroy(set);
    mec_results_close(db);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/mec_test_results_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd) != 0) return 1;
    RUN(test_import_and_load);
    RUN(test_bad_rows);
    RUN(test_breakdown_and_network);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return TEST_SUMMARY();
}
