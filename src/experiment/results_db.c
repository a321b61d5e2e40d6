/* experiment: the results database (SQLite). Schema, versioning, CSV import
 * in one transaction, and loading requests/accuracy for the analysis. The
 * schema is documented for users in docs/results-schema.md. */
#include "mec/results.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MEC_RESULTS_APP_ID 0x4d454342 /* "MECB" in PRAGMA application_id */
#define CSV_MAX_BYTES ((size_t)2 << 30)

struct mec_results_db {
    sqlite3 *db;
    char *path;
    int version;
};

static const char *const breakdown_cols[MEC_BREAKDOWN_COUNT] = {
    "compute_mobile_s", "compute_edge_s", "compute_cloud_s", "transfer_s", "serialize_s", "queue_s"};

const char *mec_results_breakdown_column(int part) {
    return part >= 0 && part < MEC_BREAKDOWN_COUNT ? breakdown_cols[part] : NULL;
}

static const char *const placements[] = {"mobile", "edge", "cloud", "mobile-edge", "edge-cloud", "mobile-cloud"};

bool mec_results_placement_valid(const char *p) { return mec_results_placement_tiers(p) > 0; }

int mec_results_placement_tiers(const char *p) {
    for (int i = 0; i < 6; i++)
        if (p && !strcmp(p, placements[i])) return i < 3 ? 1 : 2;
    return 0;
}

static const char *schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE experiments(\n"
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT, created_at TEXT NOT NULL, notes TEXT);\n"
    "CREATE TABLE configurations(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id),\n"
    "  model TEXT NOT NULL, operators TEXT NOT NULL, placement TEXT NOT NULL,\n"
    "  tiers TEXT, links TEXT, input_set TEXT NOT NULL DEFAULT 'main',\n"
    "  bw_mobile_edge_mbps REAL, bw_edge_cloud_mbps REAL);\n"
    "CREATE UNIQUE INDEX configurations_key ON configurations(experiment_id, model, operators, placement,\n"
    "  input_set, IFNULL(bw_mobile_edge_mbps, -1), IFNULL(bw_edge_cloud_mbps, -1));\n"
    "CREATE TABLE requests(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  configuration_id INTEGER NOT NULL REFERENCES configurations(id),\n"
    "  request_index INTEGER NOT NULL, pass INTEGER, input_id TEXT, input_bytes INTEGER,\n"
    "  warmup INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'ok',\n"
    "  latency_s REAL NOT NULL CHECK (latency_s >= 0),\n"
    "  compute_mobile_s REAL, compute_edge_s REAL, compute_cloud_s REAL,\n"
    "  transfer_s REAL, serialize_s REAL, queue_s REAL,\n"
    "  UNIQUE(configuration_id, request_index));\n"
    "CREATE TABLE accuracy(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  experiment_id INTEGER NOT NULL REFERENCES experiments(id),\n"
    "  model TEXT NOT NULL, variant TEXT NOT NULL, placement TEXT NOT NULL, metric TEXT NOT NULL,\n"
    "  value REAL NOT NULL,\n"
    "  UNIQUE(experiment_id, model, variant, placement, metric));\n"
    "CREATE VIEW request_summary AS\n"
    "  SELECT e.name AS experiment, c.model, c.operators, c.placement, c.input_set,\n"
    "         c.bw_mobile_edge_mbps, c.bw_edge_cloud_mbps, COUNT(r.id) AS n,\n"
    "         AVG(r.latency_s) AS mean_latency_s, MIN(r.latency_s) AS min_latency_s, MAX(r.latency_s) AS max_latency_s\n"
    "  FROM configurations c JOIN experiments e ON e.id = c.experiment_id\n"
    "  LEFT JOIN requests r ON r.configuration_id = c.id AND r.warmup = 0 AND r.status = 'ok'\n"
    "  GROUP BY c.id;\n";

static mec_status sql_err(mec_results_db *db, const char *what) {
    return mec_error(MEC_ERR_IO, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->db));
}

static mec_status exec(mec_results_db *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        mec_status st = mec_error(MEC_ERR_IO, "%s: %s", db->path, msg ? msg : sqlite3_errmsg(db->db));
        sqlite3_free(msg);
        return st;
    }
    return MEC_OK;
}

static int pragma_int(mec_results_db *db, const char *sql) {
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

void mec_results_close(mec_results_db *db) {
    if (!db) return;
    sqlite3_close(db->db);
    mec_free(db->path);
    mec_free(db);
}

int mec_results_schema_version(const mec_results_db *db) { return db ? db->version : 0; }

mec_status mec_results_open(const char *path, bool create, mec_results_db **out) {
    *out = NULL;
    if (!path || !*path) return mec_error(MEC_ERR_INVALID_ARG, "results database: empty path");
    mec_results_db *db = mec_calloc(1, sizeof *db);
    if (!db) return MEC_ERR_NOMEM;
    db->path = mec_strdup(path);
    if (!db->path) {
        mec_free(db);
        return MEC_ERR_NOMEM;
    }
    bool memory = !strcmp(path, ":memory:");
    if (!create && !memory) {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            mec_status st = mec_error(MEC_ERR_NOT_FOUND, "%s: no such results database (create it with `mecbench import`)", path);
            mec_results_close(db);
            return st;
        }
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
        mec_status st = mec_error(MEC_ERR_IO, "%s: cannot open: %s", path, db->db ? sqlite3_errmsg(db->db) : "out of memory");
        mec_results_close(db);
        return st;
    }
    sqlite3_busy_timeout(db->db, 5000);
    mec_status st = MEC_OK;
    int n_tables = pragma_int(db, "SELECT COUNT(*) FROM sqlite_master");
    if (n_tables < 0) {
        st = mec_error(MEC_ERR_PARSE, "%s: not an SQLite database: %s", path, sqlite3_errmsg(db->db));
        goto fail;
    }
    int app = pragma_int(db, "PRAGMA application_id"), ver = pragma_int(db, "PRAGMA user_version");
    if (n_tables == 0) {
        if (!create) {
            st = mec_error(MEC_ERR_PARSE, "%s: empty database (no mecbench schema)", path);
            goto fail;
        }
        char sql[256];
        snprintf(sql, sizeof sql,
                 "PRAGMA application_id = %d; PRAGMA user_version = %d; BEGIN;", MEC_RESULTS_APP_ID,
                 MEC_RESULTS_SCHEMA_VERSION);
        if ((st = exec(db, sql))) goto fail;
        if ((st = exec(db, schema_sql))) goto fail;
        snprintf(sql, sizeof sql,
                 "INSERT INTO meta VALUES('schema_version', '%d'), ('application', 'mecbench'); COMMIT;",
                 MEC_RESULTS_SCHEMA_VERSION);
        if ((st = exec(db, sql))) goto fail;
        ver = MEC_RESULTS_SCHEMA_VERSION;
    } else if (app != MEC_RESULTS_APP_ID) {
        st = mec_error(MEC_ERR_PARSE, "%s: not a mecbench results database (application_id %d)", path, app);
        goto fail;
    } else if (ver > MEC_RESULTS_SCHEMA_VERSION) {
        st = mec_error(MEC_ERR_UNSUPPORTED,
                       "%s: results schema version %d is newer than this mecbench understands (%d): use a newer mecbench",
                       path, ver, MEC_RESULTS_SCHEMA_VERSION);
        goto fail;
    } else if (ver < 1) {
        st = mec_error(MEC_ERR_PARSE, "%s: results schema version %d is not valid", path, ver);
        goto fail;
    }
    db->version = ver;
    exec(db, "PRAGMA foreign_keys = ON");
    *out = db;
    return MEC_OK;
fail:
    sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL); /* keeps our message */
    mec_results_close(db);
    return st;
}

/* -------------------------------------------------------------------- CSV */

typedef struct csv_reader {
    const char *p, *end;
    long line;
    char **fields;
    int n_fields, cap;
    char *buf; /* unescaped field text */
    size_t buf_cap;
} csv_reader;

/* Reads the next record into r->fields. 0 = done, 1 = a record, -1 = error. */
static int csv_next(csv_reader *r) {
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
        if (*r->p == '\n') r->line++;
        r->p++;
    }
    if (r->p >= r->end) return 0;
    r->line++;
    r->n_fields = 0;
    size_t used = 0;
    size_t offsets[256];
    for (;;) {
        if (r->n_fields >= 256) return mec_error(MEC_ERR_PARSE, "line %ld: more than 256 fields", r->line), -1;
        offsets[r->n_fields++] = used;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            for (;;) {
                if (r->p >= r->end) return mec_error(MEC_ERR_PARSE, "line %ld: unterminated quoted field", r->line), -1;
                char c = *r->p++;
                if (c == '"') {
                    if (r->p < r->end && *r->p == '"') r->p++;
                    else break;
                }
                if (c == '\n') r->line++;
                if (used + 2 > r->buf_cap) return mec_error(MEC_ERR_PARSE, "line %ld: record too long", r->line), -1;
                r->buf[used++] = c;
            }
        } else {
            while (r->p < r->end && *r->p != ',' && *r->p != '\n' && *r->p != '\r') {
                if (used + 2 > r->buf_cap) return mec_error(MEC_ERR_PARSE, "line %ld: record too long", r->line), -1;
                r->buf[used++] = *r->p++;
            }
        }
        r->buf[used++] = '\0';
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '\r') r->p++;
        if (r->p < r->end && *r->p == '\n') r->p++;
        break;
    }
    for (int i = 0; i < r->n_fields; i++) r->fields[i] = r->buf + offsets[i];
    return 1;
}

/* Column roles, found by header name. */
enum {
    COL_EXPERIMENT, COL_MODEL, COL_OPERATORS, COL_PLACEMENT, COL_LATENCY, COL_REQUEST_INDEX, COL_PASS,
    COL_REPETITION, COL_INPUT_ID, COL_INPUT_BYTES, COL_STATUS, COL_WARMUP, COL_INPUT_SET, COL_BW_ME, COL_BW_EC,
    COL_TIERS, COL_LINKS, COL_METRIC, COL_VALUE, COL_BREAKDOWN0, COL_COUNT = COL_BREAKDOWN0 + MEC_BREAKDOWN_COUNT
};

static int column_role(const char *name) {
    static const struct { const char *name; int role; } names[] = {
        {"experiment", COL_EXPERIMENT}, {"study", COL_EXPERIMENT}, {"model", COL_MODEL},
        {"operator", COL_OPERATORS}, {"operators", COL_OPERATORS}, {"variant", COL_OPERATORS},
        {"placement", COL_PLACEMENT}, {"tier", COL_PLACEMENT}, {"latency_s", COL_LATENCY},
        {"request_index", COL_REQUEST_INDEX}, {"pass", COL_PASS}, {"repetition", COL_REPETITION},
        {"input_id", COL_INPUT_ID}, {"input_bytes", COL_INPUT_BYTES}, {"status", COL_STATUS},
        {"warmup", COL_WARMUP}, {"input_set", COL_INPUT_SET}, {"bw_mobile_edge_mbps", COL_BW_ME},
        {"bw_edge_cloud_mbps", COL_BW_EC}, {"tiers", COL_TIERS}, {"links", COL_LINKS},
        {"metric", COL_METRIC}, {"value", COL_VALUE},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) return names[i].role;
    for (int b = 0; b < MEC_BREAKDOWN_COUNT; b++)
        if (!strcmp(name, breakdown_cols[b])) return COL_BREAKDOWN0 + b;
    return -1;
}

static bool parse_double(const char *s, double *v) {
    if (!*s) return false;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ') end++;
    return *end == '\0' && errno != ERANGE;
}

static bool parse_int(const char *s, long long *v) {
    if (!*s) return false;
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *end == '\0' && errno == 0;
}

static bool valid_name(const char *s) {
    if (!*s || strlen(s) > 200) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '+' || *s == '.')) return false;
    return true;
}

typedef struct import_ctx {
    mec_results_db *db;
    const mec_results_import_options *opt;
    mec_results_import_stats *stats;
    sqlite3_stmt *ins_exp, *sel_exp, *ins_cfg, *sel_cfg, *ins_req, *next_idx, *ins_acc;
    char *errors;  /* "line N: ...; line M: ..." */
    size_t errors_len, errors_cap;
    long n_bad;
    /* the last configuration, cached: rows come grouped */
    char last_key[1024];
    sqlite3_int64 last_cfg;
} import_ctx;

static void add_bad(import_ctx *c, const char *file, long line, const char *fmt, ...) MEC_PRINTF(4, 5);
#include <stdarg.h>
static void add_bad(import_ctx *c, const char *file, long line, const char *fmt, ...) {
    c->n_bad++;
    int max = c->opt && c->opt->max_messages > 0 ? c->opt->max_messages : 10;
    if (c->n_bad > max) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int k = snprintf(msg, sizeof msg, "%s%s:%ld: ", c->errors_len ? "; " : "", file, line);
    vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg);
    if (c->errors_len + len + 1 > c->errors_cap) {
        size_t cap = (c->errors_cap + len + 1) * 2;
        char *e = mec_realloc(c->errors, c->errors_cap, cap);
        if (!e) return;
        c->errors = e, c->errors_cap = cap;
    }
    memcpy(c->errors + c->errors_len, msg, len + 1);
    c->errors_len += len;
}

static mec_status prepare(import_ctx *c, sqlite3_stmt **s, const char *sql) {
    if (sqlite3_prepare_v2(c->db->db, sql, -1, s, NULL) != SQLITE_OK) return sql_err(c->db, "prepare");
    return MEC_OK;
}

static void finalize_all(import_ctx *c) {
    sqlite3_stmt **all[] = {&c->ins_exp, &c->sel_exp, &c->ins_cfg, &c->sel_cfg, &c->ins_req, &c->next_idx, &c->ins_acc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

static mec_status experiment_id(import_ctx *c, const char *name, const char *source, sqlite3_int64 *id) {
    sqlite3_reset(c->sel_exp);
    sqlite3_bind_text(c->sel_exp, 1, name, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(c->sel_exp) == SQLITE_ROW) {
        *id = sqlite3_column_int64(c->sel_exp, 0);
        return MEC_OK;
    }
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sqlite3_reset(c->ins_exp);
    sqlite3_bind_text(c->ins_exp, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->ins_exp, 2, source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->ins_exp, 3, when, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(c->ins_exp) != SQLITE_DONE) return sql_err(c->db, "insert experiment");
    *id = sqlite3_last_insert_rowid(c->db->db);
    if (c->stats) c->stats->experiments_created++;
    return MEC_OK;
}

static void bind_opt_double(sqlite3_stmt *s, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(s, i);
    else sqlite3_bind_double(s, i, v);
}

static void bind_opt_text(sqlite3_stmt *s, int i, const char *v) {
    if (!v || !*v) sqlite3_bind_null(s, i);
    else sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static mec_status config_id(import_ctx *c, sqlite3_int64 exp, const char *model, const char *ops,
                            const char *placement, const char *input_set, double bw_me, double bw_ec,
                            const char *tiers, const char *links, sqlite3_int64 *id) {
    char key[1024];
    snprintf(key, sizeof key, "%lld|%s|%s|%s|%s|%.17g|%.17g", (long long)exp, model, ops, placement, input_set,
             bw_me, bw_ec);
    if (c->last_cfg && !strcmp(key, c->last_key)) {
        *id = c->last_cfg;
        return MEC_OK;
    }
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *s = c->sel_cfg;
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, exp);
        sqlite3_bind_text(s, 2, model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, ops, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, placement, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 5, input_set, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 6, isnan(bw_me) ? -1 : bw_me);
        sqlite3_bind_double(s, 7, isnan(bw_ec) ? -1 : bw_ec);
        if (sqlite3_step(s) == SQLITE_ROW) {
            *id = sqlite3_column_int64(s, 0);
            snprintf(c->last_key, sizeof c->last_key, "%s", key);
            c->last_cfg = *id;
            return MEC_OK;
        }
        if (pass) break;
        s = c->ins_cfg;
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, exp);
        sqlite3_bind_text(s, 2, model, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, ops, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 4, placement, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 5, input_set, -1, SQLITE_TRANSIENT);
        bind_opt_double(s, 6, bw_me);
        bind_opt_double(s, 7, bw_ec);
        bind_opt_text(s, 8, tiers);
        bind_opt_text(s, 9, links);
        if (sqlite3_step(s) != SQLITE_DONE) return sql_err(c->db, "insert configuration");
        if (c->stats) c->stats->configurations_created++;
    }
    return mec_error(MEC_ERR_INTERNAL, "configuration %s/%s/%s not found after insert", model, ops, placement);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static mec_status import_file(import_ctx *c, const char *path) {
    const char *file = base_name(path);
    void *data = NULL;
    size_t len = 0;
    mec_status st = mec_file_read(path, CSV_MAX_BYTES, &data, &len);
    if (st) return mec_error_prefix(st, "import: ");
    csv_reader r = {0};
    r.p = data, r.end = (const char *)data + len;
    r.buf_cap = 65536;
    r.buf = mec_malloc(r.buf_cap);
    r.fields = mec_calloc(256, sizeof *r.fields);
    int col[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++) col[i] = -1;
    int n_header = 0;
    if (!r.buf || !r.fields) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    int got = csv_next(&r);
    if (got <= 0) {
        st = got < 0 ? mec_error_prefix(MEC_ERR_PARSE, "%s: ", file)
                     : mec_error(MEC_ERR_PARSE, "%s: empty file (expected a CSV header)", file);
        goto done;
    }
    n_header = r.n_fields;
    for (int i = 0; i < r.n_fields; i++) {
        int role = column_role(r.fields[i]);
        if (role >= 0 && col[role] < 0) col[role] = i;
    }
    bool is_accuracy = col[COL_METRIC] >= 0 || col[COL_VALUE] >= 0;
    const char *need_lat[] = {"model", "operator", "placement", "latency_s"};
    const int need_lat_role[] = {COL_MODEL, COL_OPERATORS, COL_PLACEMENT, COL_LATENCY};
    const char *need_acc[] = {"model", "operator", "tier", "metric", "value"};
    const int need_acc_role[] = {COL_MODEL, COL_OPERATORS, COL_PLACEMENT, COL_METRIC, COL_VALUE};
    {
        char missing[256] = "";
        int n = is_accuracy ? 5 : 4;
        for (int i = 0; i < n; i++) {
            int role = is_accuracy ? need_acc_role[i] : need_lat_role[i];
            if (col[role] < 0)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", *missing ? ", " : "",
                         is_accuracy ? need_acc[i] : need_lat[i]);
        }
        if (col[COL_EXPERIMENT] < 0 && !(c->opt && c->opt->experiment))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%sstudy (or --experiment NAME)",
                     *missing ? ", " : "");
        if (*missing) {
            st = mec_error(MEC_ERR_PARSE, "%s:1: missing column(s): %s (a %s CSV needs %s)", file, missing,
                           is_accuracy ? "accuracy" : "latency",
                           is_accuracy ? "study,model,operator,tier,metric,value"
                                       : "study,model,operator,placement,latency_s");
            goto done;
        }
    }
    bool file_warmup = strstr(file, "warmup") != NULL;
    bool network = col[COL_BW_ME] >= 0 || col[COL_BW_EC] >= 0;
    /* The studies' tidy CSV: 100 inputs sent in the same order, index = pass * 100 + input. */
    bool study_layout = col[COL_EXPERIMENT] >= 0 && col[COL_REQUEST_INDEX] >= 0 && col[COL_INPUT_ID] < 0 &&
                        col[COL_PASS] < 0 && !network;
    sqlite3_int64 exp = 0;
    char last_exp[256] = "";
    while ((got = csv_next(&r)) > 0) {
        long line = r.line;
        if (r.n_fields != n_header) {
            add_bad(c, file, line, "%d fields, the header has %d", r.n_fields, n_header);
            continue;
        }
#define F(role) (col[role] >= 0 ? r.fields[col[role]] : NULL)
        const char *ename = F(COL_EXPERIMENT) ? F(COL_EXPERIMENT) : c->opt->experiment;
        const char *model = F(COL_MODEL), *ops = F(COL_OPERATORS), *placement = F(COL_PLACEMENT);
        if (!valid_name(ename)) { add_bad(c, file, line, "experiment '%s' is empty or has characters other than letters, digits, - _ + .", ename); continue; }
        if (!valid_name(model)) { add_bad(c, file, line, "model '%s' is empty or has characters other than letters, digits, - _ + .", model); continue; }
        if (!valid_name(ops)) { add_bad(c, file, line, "operator '%s' is empty or has characters other than letters, digits, - _ + .", ops); continue; }
        if (!mec_results_placement_valid(placement)) {
            add_bad(c, file, line, "%s '%s' is not one of mobile, edge, cloud, mobile-edge, edge-cloud, mobile-cloud",
                    is_accuracy ? "tier" : "placement", placement);
            continue;
        }
        if (strcmp(ename, last_exp)) {
            if ((st = experiment_id(c, ename, path, &exp))) goto done;
            snprintf(last_exp, sizeof last_exp, "%s", ename);
        }
        if (is_accuracy) {
            double v;
            const char *metric = F(COL_METRIC);
            if (!valid_name(metric)) { add_bad(c, file, line, "metric '%s' is not a name", metric); continue; }
            if (!parse_double(F(COL_VALUE), &v) || !isfinite(v)) {
                add_bad(c, file, line, "value '%s' is not a finite number", F(COL_VALUE));
                continue;
            }
            sqlite3_stmt *s = c->ins_acc;
            sqlite3_reset(s);
            sqlite3_bind_int64(s, 1, exp);
            sqlite3_bind_text(s, 2, model, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 3, ops, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 4, placement, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 5, metric, -1, SQLITE_TRANSIENT);
            sqlite3_bind_double(s, 6, v);
            int rc = sqlite3_step(s);
            if (rc == SQLITE_CONSTRAINT) {
                add_bad(c, file, line, "accuracy %s/%s/%s/%s/%s is already in the database (imported twice?)", ename,
                        model, ops, placement, metric);
                continue;
            }
            if (rc != SQLITE_DONE) { st = sql_err(c->db, "insert accuracy"); goto done; }
            if (c->stats) c->stats->rows_accuracy++;
            continue;
        }
        double lat;
        if (!parse_double(F(COL_LATENCY), &lat) || isnan(lat)) {
            add_bad(c, file, line, "latency_s '%s' is not a number", F(COL_LATENCY));
            continue;
        }
        if (!isfinite(lat) || lat < 0) {
            add_bad(c, file, line, "latency_s %s is %s", F(COL_LATENCY), lat < 0 ? "negative" : "infinite");
            continue;
        }
        long long idx = -1, pass = -1, bytes = -1, rep = -1;
        if (F(COL_REQUEST_INDEX) && (!parse_int(F(COL_REQUEST_INDEX), &idx) || idx < 0)) {
            add_bad(c, file, line, "request_index '%s' is not a non-negative integer", F(COL_REQUEST_INDEX));
            continue;
        }
        if (F(COL_PASS) && *F(COL_PASS) && (!parse_int(F(COL_PASS), &pass) || pass < 0)) {
            add_bad(c, file, line, "pass '%s' is not a non-negative integer", F(COL_PASS));
            continue;
        }
        if (F(COL_REPETITION) && (!parse_int(F(COL_REPETITION), &rep) || rep < 0)) {
            add_bad(c, file, line, "repetition '%s' is not a non-negative integer", F(COL_REPETITION));
            continue;
        }
        if (F(COL_INPUT_BYTES) && *F(COL_INPUT_BYTES) && (!parse_int(F(COL_INPUT_BYTES), &bytes) || bytes < 0)) {
            add_bad(c, file, line, "input_bytes '%s' is not a non-negative integer", F(COL_INPUT_BYTES));
            continue;
        }
        double bw_me = NAN, bw_ec = NAN;
        if (F(COL_BW_ME) && *F(COL_BW_ME) && (!parse_double(F(COL_BW_ME), &bw_me) || !(bw_me > 0) || !isfinite(bw_me))) {
            add_bad(c, file, line, "bw_mobile_edge_mbps '%s' is not a positive number", F(COL_BW_ME));
            continue;
        }
        if (F(COL_BW_EC) && *F(COL_BW_EC) && (!parse_double(F(COL_BW_EC), &bw_ec) || !(bw_ec > 0) || !isfinite(bw_ec))) {
            add_bad(c, file, line, "bw_edge_cloud_mbps '%s' is not a positive number", F(COL_BW_EC));
            continue;
        }
        double parts[MEC_BREAKDOWN_COUNT];
        bool bad = false;
        for (int b = 0; b < MEC_BREAKDOWN_COUNT && !bad; b++) {
            const char *t = F(COL_BREAKDOWN0 + b);
            parts[b] = NAN;
            if (t && *t && (!parse_double(t, &parts[b]) || !isfinite(parts[b]) || parts[b] < 0)) {
                add_bad(c, file, line, "%s '%s' is not a non-negative number", breakdown_cols[b], t);
                bad = true;
            }
        }
        if (bad) continue;
        long long warm = file_warmup ? 1 : 0;
        if (F(COL_WARMUP) && *F(COL_WARMUP)) {
            if (!parse_int(F(COL_WARMUP), &warm) || (warm != 0 && warm != 1)) {
                add_bad(c, file, line, "warmup '%s' is not 0 or 1", F(COL_WARMUP));
                continue;
            }
        }
        if (network && rep == 0 && !F(COL_WARMUP)) warm = 1; /* the study's notebook dropped repetition 0 */
        if (rep >= 0 && pass < 0) pass = rep;
        const char *input_set = F(COL_INPUT_SET) && *F(COL_INPUT_SET) ? F(COL_INPUT_SET) : network ? "network" : "main";
        sqlite3_int64 cfg = 0;
        if ((st = config_id(c, exp, model, ops, placement, input_set, bw_me, bw_ec, F(COL_TIERS), F(COL_LINKS), &cfg)))
            goto done;
        if (idx < 0 && rep >= 0 && network) idx = rep;
        if (idx < 0) {
            sqlite3_reset(c->next_idx);
            sqlite3_bind_int64(c->next_idx, 1, cfg);
            idx = sqlite3_step(c->next_idx) == SQLITE_ROW ? sqlite3_column_int64(c->next_idx, 0) : 0;
        }
        char input_buf[32];
        const char *input_id = F(COL_INPUT_ID);
        if (study_layout) {
            snprintf(input_buf, sizeof input_buf, "input-%02lld", idx % 100);
            input_id = input_buf;
            pass = idx / 100;
        }
        sqlite3_stmt *s = c->ins_req;
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, cfg);
        sqlite3_bind_int64(s, 2, idx);
        if (pass >= 0) sqlite3_bind_int64(s, 3, pass); else sqlite3_bind_null(s, 3);
        bind_opt_text(s, 4, input_id);
        if (bytes >= 0) sqlite3_bind_int64(s, 5, bytes); else sqlite3_bind_null(s, 5);
        sqlite3_bind_int64(s, 6, warm);
        sqlite3_bind_text(s, 7, F(COL_STATUS) && *F(COL_STATUS) ? F(COL_STATUS) : "ok", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(s, 8, lat);
        for (int b = 0; b < MEC_BREAKDOWN_COUNT; b++) bind_opt_double(s, 9 + b, parts[b]);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT) {
            add_bad(c, file, line, "request %lld of %s/%s/%s/%s is already in the database (imported twice?)", idx,
                    ename, model, ops, placement);
            continue;
        }
        if (rc != SQLITE_DONE) { st = sql_err(c->db, "insert request"); goto done; }
        if (c->stats) c->stats->rows_requests++;
#undef F
    }
    if (got < 0) st = mec_error_prefix(MEC_ERR_PARSE, "%s: ", file);
done:
    mec_free(r.buf);
    mec_free(r.fields);
    mec_free(data);
    return st;
}

mec_status mec_results_import_csv(mec_results_db *db, const char *const *paths, int n_paths,
                                  const mec_results_import_options *opt, mec_results_import_stats *stats) {
    if (!db || !paths || n_paths <= 0) return mec_error(MEC_ERR_INVALID_ARG, "import: no CSV files given");
    mec_results_import_options defaults = {0};
    if (!opt) opt = &defaults;
    mec_results_import_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);
    import_ctx c = {.db = db, .opt = opt, .stats = stats};
    mec_status st;
    if ((st = exec(db, "BEGIN IMMEDIATE"))) return st;
    if ((st = prepare(&c, &c.sel_exp, "SELECT id FROM experiments WHERE name = ?1")) ||
        (st = prepare(&c, &c.ins_exp, "INSERT INTO experiments(name, source, created_at) VALUES(?1, ?2, ?3)")) ||
        (st = prepare(&c, &c.sel_cfg,
                      "SELECT id FROM configurations WHERE experiment_id = ?1 AND model = ?2 AND operators = ?3 AND "
                      "placement = ?4 AND input_set = ?5 AND IFNULL(bw_mobile_edge_mbps, -1) = ?6 AND "
                      "IFNULL(bw_edge_cloud_mbps, -1) = ?7")) ||
        (st = prepare(&c, &c.ins_cfg,
                      "INSERT INTO configurations(experiment_id, model, operators, placement, input_set, "
                      "bw_mobile_edge_mbps, bw_edge_cloud_mbps, tiers, links) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)")) ||
        (st = prepare(&c, &c.ins_req,
                      "INSERT INTO requests(configuration_id, request_index, pass, input_id, input_bytes, warmup, "
                      "status, latency_s, compute_mobile_s, compute_edge_s, compute_cloud_s, transfer_s, "
                      "serialize_s, queue_s) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)")) ||
        (st = prepare(&c, &c.next_idx,
                      "SELECT IFNULL(MAX(request_index) + 1, 0) FROM requests WHERE configuration_id = ?1")) ||
        (st = prepare(&c, &c.ins_acc,
                      "INSERT INTO accuracy(experiment_id, model, variant, placement, metric, value) "
                      "VALUES(?1,?2,?3,?4,?5,?6)")))
        goto fail;
    for (int i = 0; i < n_paths; i++)
        if ((st = import_file(&c, paths[i]))) goto fail;
    stats->rows_skipped = opt->skip_bad_rows ? c.n_bad : 0;
    if (c.n_bad && !opt->skip_bad_rows) {
        int max = opt->max_messages > 0 ? opt->max_messages : 10;
        st = mec_error(MEC_ERR_PARSE, "%ld bad row(s), nothing imported: %s%s", c.n_bad, c.errors ? c.errors : "",
                       c.n_bad > max ? "; ..." : "");
        goto fail;
    }
    finalize_all(&c);
    if ((st = exec(db, "COMMIT"))) {
        exec(db, "ROLLBACK");
        mec_free(c.errors);
        return st;
    }
    if (c.n_bad) mec_error(MEC_OK, "%ld bad row(s) skipped: %s", c.n_bad, c.errors ? c.errors : "");
    else mec_error_clear();
    mec_free(c.errors);
    return MEC_OK;
fail:
    finalize_all(&c);
    mec_free(c.errors);
    {
        /* keep the message: ROLLBACK must not replace it */
        char *msg = mec_strdup(mec_last_error());
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        if (msg) {
            mec_error(st, "%s", msg);
            mec_free(msg);
        }
    }
    memset(stats, 0, sizeof *stats);
    return st;
}

/* ------------------------------------------------------------------- load */

static int placement_rank(const char *p) {
    for (int i = 0; i < 6; i++)
        if (!strcmp(p, placements[i])) return i;
    return 6;
}

static int operator_rank(const char *o) {
    static const char *order[] = {"identity", "partition", "sptq", "early-exit", "sptq+early-exit",
                                  "sptq+early-exit+partition", "sptq+partition", "qat", "prune", "distill",
                                  "distill+sptq"};
    for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
        if (!strcmp(o, order[i])) return i;
    return 100;
}

static int cmp_nan_last(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int cmp_group(const void *pa, const void *pb) {
    const mec_results_group *a = pa, *b = pb;
    int c;
    if ((c = strcmp(a->experiment, b->experiment))) return c;
    if ((c = strcmp(a->input_set, b->input_set))) return c;
    if ((c = strcmp(a->model, b->model))) return c;
    if ((c = placement_rank(a->placement) - placement_rank(b->placement))) return c;
    if ((c = strcmp(a->placement, b->placement))) return c;
    if ((c = operator_rank(a->operators) - operator_rank(b->operators))) return c;
    if ((c = strcmp(a->operators, b->operators))) return c;
    if ((c = cmp_nan_last(a->bw_mobile_edge_mbps, b->bw_mobile_edge_mbps))) return c;
    return cmp_nan_last(a->bw_edge_cloud_mbps, b->bw_edge_cloud_mbps);
}

void mec_results_set_destroy(mec_results_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->n_groups; i++) {
        mec_results_group *g = &set->groups[i];
        mec_free(g->experiment), mec_free(g->model), mec_free(g->operators), mec_free(g->placement);
        mec_free(g->input_set), mec_free(g->latency_s), mec_free(g->request_index);
    }
    for (size_t i = 0; i < set->n_accuracy; i++) {
        mec_results_accuracy *a = &set->accuracy[i];
        mec_free(a->experiment), mec_free(a->model), mec_free(a->variant), mec_free(a->placement), mec_free(a->metric);
    }
    mec_free(set->groups);
    mec_free(set->accuracy);
    mec_free(set);
}

static char *col_text(sqlite3_stmt *s, int i) {
    const unsigned char *t = sqlite3_column_text(s, i);
    return mec_strdup(t ? (const char *)t : "");
}

mec_status mec_results_load(mec_results_db *db, const mec_results_filter *filter, mec_results_set **out) {
    *out = NULL;
    mec_results_filter none = {0};
    if (!filter) filter = &none;
    mec_results_set *set = mec_calloc(1, sizeof *set);
    if (!set) return MEC_ERR_NOMEM;
    mec_status st = MEC_OK;
    sqlite3_stmt *s = NULL;
    size_t *count = NULL, *slot = NULL;
    double (*bsum)[MEC_BREAKDOWN_COUNT] = NULL;
    long (*bn)[MEC_BREAKDOWN_COUNT] = NULL;
    const char *where = "WHERE (?1 IS NULL OR e.name = ?1) AND (?2 IS NULL OR c.model = ?2) AND (?3 IS NULL OR c.input_set = ?3)";
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT c.id, e.name, c.model, c.operators, c.placement, c.input_set, c.bw_mobile_edge_mbps, "
             "c.bw_edge_cloud_mbps, (SELECT COUNT(*) FROM requests r WHERE r.configuration_id = c.id AND "
             "r.status = 'ok' AND (?4 OR r.warmup = 0)) FROM configurations c JOIN experiments e ON e.id = "
             "c.experiment_id %s ORDER BY c.id", where);
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) { st = sql_err(db, "query configurations"); goto fail; }
#define BIND_FILTER(s)                                                                  \
    do {                                                                                \
        bind_opt_text(s, 1, filter->experiment);                                        \
        bind_opt_text(s, 2, filter->model);                                             \
        bind_opt_text(s, 3, filter->input_set);                                         \
        sqlite3_bind_int(s, 4, filter->include_warmup ? 1 : 0);                         \
    } while (0)
    BIND_FILTER(s);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (set->n_groups == cap) {
            size_t nc = cap ? cap * 2 : 64;
            mec_results_group *g = mec_realloc(set->groups, cap * sizeof *g, nc * sizeof *g);
            if (!g) { st = MEC_ERR_NOMEM; goto fail; }
            set->groups = g, cap = nc;
        }
        mec_results_group *g = &set->groups[set->n_groups++];
        memset(g, 0, sizeof *g);
        g->config_id = sqlite3_column_int64(s, 0);
        g->experiment = col_text(s, 1), g->model = col_text(s, 2), g->operators = col_text(s, 3);
        g->placement = col_text(s, 4), g->input_set = col_text(s, 5);
        g->bw_mobile_edge_mbps = sqlite3_column_type(s, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 6);
        g->bw_edge_cloud_mbps = sqlite3_column_type(s, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 7);
        size_t n = (size_t)sqlite3_column_int64(s, 8);
        g->latency_s = mec_malloc((n ? n : 1) * sizeof *g->latency_s);
        g->request_index = mec_malloc((n ? n : 1) * sizeof *g->request_index);
        if (!g->experiment || !g->model || !g->operators || !g->placement || !g->input_set || !g->latency_s ||
            !g->request_index) { st = MEC_ERR_NOMEM; goto fail; }
        for (int b = 0; b < MEC_BREAKDOWN_COUNT; b++) g->breakdown_s[b] = NAN;
    }
    if (rc != SQLITE_DONE) { st = sql_err(db, "query configurations"); goto fail; }
    sqlite3_finalize(s);
    s = NULL;
    /* the groups are in configuration id order: find a group by binary search */
    count = mec_calloc(set->n_groups + 1, sizeof *count);
    bsum = mec_calloc(set->n_groups + 1, sizeof *bsum);
    bn = mec_calloc(set->n_groups + 1, sizeof *bn);
    if (!count || !bsum || !bn) { st = MEC_ERR_NOMEM; goto fail; }
    snprintf(sql, sizeof sql,
             "SELECT r.configuration_id, r.request_index, r.latency_s, r.compute_mobile_s, r.compute_edge_s, "
             "r.compute_cloud_s, r.transfer_s, r.serialize_s, r.queue_s FROM requests r JOIN configurations c ON "
             "c.id = r.configuration_id JOIN experiments e ON e.id = c.experiment_id %s AND r.status = 'ok' AND "
             "(?4 OR r.warmup = 0) ORDER BY r.configuration_id, r.request_index", where);
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) { st = sql_err(db, "query requests"); goto fail; }
    BIND_FILTER(s);
    size_t gi = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        while (gi < set->n_groups && set->groups[gi].config_id < id) gi++;
        if (gi >= set->n_groups || set->groups[gi].config_id != id) continue;
        mec_results_group *g = &set->groups[gi];
        double lat = sqlite3_column_double(s, 2);
        if (!isfinite(lat) || lat < 0) {
            st = mec_error(MEC_ERR_RANGE, "%s: request %lld of configuration %lld has latency %g", db->path,
                           (long long)sqlite3_column_int64(s, 1), (long long)id, lat);
            goto fail;
        }
        if (g->n >= (size_t)-1 / 2) continue;
        g->request_index[g->n] = sqlite3_column_int64(s, 1);
        g->latency_s[g->n++] = lat;
        for (int b = 0; b < MEC_BREAKDOWN_COUNT; b++)
            if (sqlite3_column_type(s, 3 + b) != SQLITE_NULL) {
                bsum[gi][b] += sqlite3_column_double(s, 3 + b);
                bn[gi][b]++;
            }
    }
    if (rc != SQLITE_DONE) { st = sql_err(db, "query requests"); goto fail; }
    sqlite3_finalize(s);
    s = NULL;
    for (size_t i = 0; i < set->n_groups; i++)
        for (int b = 0; b < MEC_BREAKDOWN_COUNT; b++)
            if (bn[i][b]) set->groups[i].breakdown_s[b] = bsum[i][b] / (double)bn[i][b];
    if (set->n_groups) qsort(set->groups, set->n_groups, sizeof *set->groups, cmp_group);

    snprintf(sql, sizeof sql,
             "SELECT e.name, a.model, a.variant, a.placement, a.metric, a.value FROM accuracy a JOIN experiments e "
             "ON e.id = a.experiment_id WHERE (?1 IS NULL OR e.name = ?1) AND (?2 IS NULL OR a.model = ?2) "
             "ORDER BY e.name, a.model, a.metric, a.variant, a.placement");
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) { st = sql_err(db, "query accuracy"); goto fail; }
    bind_opt_text(s, 1, filter->experiment);
    bind_opt_text(s, 2, filter->model);
    cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (set->n_accuracy == cap) {
            size_t nc = cap ? cap * 2 : 64;
            mec_results_accuracy *a = mec_realloc(set->accuracy, cap * sizeof *a, nc * sizeof *a);
            if (!a) { st = MEC_ERR_NOMEM; goto fail; }
            set->accuracy = a, cap = nc;
        }
        mec_results_accuracy *a = &set->accuracy[set->n_accuracy++];
        a->experiment = col_text(s, 0), a->model = col_text(s, 1), a->variant = col_text(s, 2);
        a->placement = col_text(s, 3), a->metric = col_text(s, 4), a->value = sqlite3_column_double(s, 5);
        if (!a->experiment || !a->model || !a->variant || !a->placement || !a->metric) { st = MEC_ERR_NOMEM; goto fail; }
    }
    if (rc != SQLITE_DONE) { st = sql_err(db, "query accuracy"); goto fail; }
    sqlite3_finalize(s);
    mec_free(count), mec_free(bsum), mec_free(bn), mec_free(slot);
    *out = set;
    return MEC_OK;
#undef BIND_FILTER
fail:
    sqlite3_finalize(s);
    mec_free(count), mec_free(bsum), mec_free(bn), mec_free(slot);
    mec_results_set_destroy(set);
    return st;
}

/* ------------------------------------------------------------- CSV → memory */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

mec_status mec_results_open_csv(const char *const *paths, int n_paths, mec_results_db **out) {
    *out = NULL;
    mec_results_db *db;
    mec_status st = mec_results_open(":memory:", true, &db);
    if (st) return st;
    char **files = NULL;
    int n_files = 0, cap = 0;
    for (int i = 0; i < n_paths && !st; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0) {
            st = mec_error(MEC_ERR_NOT_FOUND, "%s: no such file or directory", paths[i]);
            break;
        }
        if (S_ISDIR(sb.st_mode)) {
            DIR *d = opendir(paths[i]);
            if (!d) {
                st = mec_error(MEC_ERR_IO, "%s: cannot list directory", paths[i]);
                break;
            }
            struct dirent *e;
            int before = n_files;
            while ((e = readdir(d))) {
                size_t L = strlen(e->d_name);
                if (L < 5 || strcmp(e->d_name + L - 4, ".csv")) continue;
                if (n_files == cap) {
                    int nc = cap ? cap * 2 : 16;
                    char **f = mec_realloc(files, (size_t)cap * sizeof *f, (size_t)nc * sizeof *f);
                    if (!f) { st = MEC_ERR_NOMEM; break; }
                    files = f, cap = nc;
                }
                size_t n = strlen(paths[i]) + L + 2;
                files[n_files] = mec_malloc(n);
                if (!files[n_files]) { st = MEC_ERR_NOMEM; break; }
                snprintf(files[n_files++], n, "%s/%s", paths[i], e->d_name);
            }
            closedir(d);
            if (!st && n_files == before) st = mec_error(MEC_ERR_NOT_FOUND, "%s: no .csv files in this directory", paths[i]);
            if (!st) qsort(files + before, (size_t)(n_files - before), sizeof *files, cmp_str);
        } else {
            if (n_files == cap) {
                int nc = cap ? cap * 2 : 16;
                char **f = mec_realloc(files, (size_t)cap * sizeof *f, (size_t)nc * sizeof *f);
                if (!f) { st = MEC_ERR_NOMEM; break; }
                files = f, cap = nc;
            }
            files[n_files] = mec_strdup(paths[i]);
            if (!files[n_files++]) st = MEC_ERR_NOMEM;
        }
    }
    if (!st) st = mec_results_import_csv(db, (const char *const *)files, n_files, NULL, NULL);
    for (int i = 0; i < n_files; i++) mec_free(files[i]);
    mec_free(files);
    if (st) {
        mec_results_close(db);
        return st;
    }
    *out = db;
    return MEC_OK;
}

mec_status mec_results_open_source(const char *const *paths, int n_paths, mec_results_db **out) {
    *out = NULL;
    if (n_paths <= 0) return mec_error(MEC_ERR_INVALID_ARG, "no results database or CSV given");
    struct stat sb;
    if (n_paths == 1) {
        size_t L = strlen(paths[0]);
        bool csv = L >= 4 && !strcmp(paths[0] + L - 4, ".csv");
        bool exists = stat(paths[0], &sb) == 0;
        if (!csv && (!exists || S_ISREG(sb.st_mode))) return mec_results_open(paths[0], false, out);
    }
    return mec_results_open_csv(paths, n_paths, out);
}
