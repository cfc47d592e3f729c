/* cli.h - the miniatom commands (run, check, graph, plugins); runtime/main.c dispatches to them.
 * Exit codes: 0 COMPLETE/COMPLETE_WARN (check: all runnable), 1 ERROR/ABORTED (check: a file is
 * not a component), 2 usage error, 3 deploy error (check: something is not runnable). */
#ifndef MA_CLI_H
#define MA_CLI_H

enum { MA_EXIT_OK = 0, MA_EXIT_FAILED = 1, MA_EXIT_USAGE = 2, MA_EXIT_DEPLOY = 3 };

int ma_cli_run(int argc, char **argv);
int ma_cli_check(int argc, char **argv);
int ma_cli_graph(int argc, char **argv);
int ma_cli_plugins(int argc, char **argv);
int ma_cli_map(int argc, char **argv);

#endif
