/* Shared declarations of the CLI verbs (one file per verb). */
#ifndef MEC_CLI_H
#define MEC_CLI_H

#define MEC_CLI_VERSION "0.1.0"

typedef struct mec_cli_verb {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the verb; returns the exit code */
} mec_cli_verb;

int mec_cli_ops(int argc, char **argv);
int mec_cli_infer(int argc, char **argv);
int mec_cli_bench(int argc, char **argv);
int mec_cli_import(int argc, char **argv);
int mec_cli_analyze(int argc, char **argv);
int mec_cli_recommend(int argc, char **argv);
int mec_cli_report(int argc, char **argv);
int mec_cli_version(int argc, char **argv);

#endif
