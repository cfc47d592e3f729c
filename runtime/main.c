/* main.c - the miniatom command line: dispatches to the commands in cli.c and prints help. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#ifdef HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#include <libxml/parser.h>
#include <libxslt/xsltutils.h>
#include <libxslt/extensions.h>

#include "cli.h"
#include "history.h"
#include "membudget.h"
#include "server.h"
#include "miniatom/miniatom.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: miniatom COMMAND [OPTIONS]\n"
               "\n"
               "mini-Atom runs Boomi integration processes (component XML as exported by Boomi) on this machine.\n"
               "\n"
               "Commands:\n"
               "  run PROCESS      run a process and print its result documents\n"
               "  check            load a deployment and report what is not runnable\n"
               "  graph PROCESS    print a process as Graphviz DOT\n"
               "  plugins          list the shape and connector types this miniatom can run\n"
               "  map compile MAP  print the XSLT stylesheet a map runs as\n"
               "  serve            serve the deployment's listeners over HTTP (Web Services, Flow Services)\n"
               "  executions       list the executions recorded in the execution history\n"
               "  execution show ID  print everything recorded about one execution\n"
               "  store check|repair  check the execution history; set an unusable one aside and start afresh\n"
               "  version          print the version\n"
               "  help             print this help\n"
               "\n"
               "Run 'miniatom COMMAND --help' for the options of a command.\n"
               "Exit status: 0 complete, 1 execution error, 2 usage error, 3 deploy error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MA_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    ma_membudget_install(); /* before anything allocates with libxml2 or jansson */
    xmlInitParser();
    int rc;
    if (strcmp(cmd, "run") == 0) rc = ma_cli_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "check") == 0) rc = ma_cli_check(argc - 1, argv + 1);
    else if (strcmp(cmd, "graph") == 0) rc = ma_cli_graph(argc - 1, argv + 1);
    else if (strcmp(cmd, "plugins") == 0) rc = ma_cli_plugins(argc - 1, argv + 1);
    else if (strcmp(cmd, "map") == 0) rc = ma_cli_map(argc - 1, argv + 1);
    else if (strcmp(cmd, "serve") == 0) rc = ma_cli_serve(argc - 1, argv + 1);
    else if (strcmp(cmd, "executions") == 0) rc = ma_cli_executions(argc - 1, argv + 1);
    else if (strcmp(cmd, "execution") == 0) rc = ma_cli_execution(argc - 1, argv + 1);
    else if (strcmp(cmd, "store") == 0) rc = ma_cli_store(argc - 1, argv + 1);
    else if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
#ifdef HAVE_MIMALLOC
        int mv = mi_version(); /* e.g. 209 for 2.0.9 */
        printf("miniatom %s (plugin ABI %d, allocator mimalloc %d.%d.%d)\n", MA_VERSION_STRING, MA_ABI_VERSION,
               mv / 100, mv / 10 % 10, mv % 10);
#else
        printf("miniatom %s (plugin ABI %d, allocator libc)\n", MA_VERSION_STRING, MA_ABI_VERSION);
#endif
        rc = 0;
    } else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        rc = 0;
    } else {
        fprintf(stderr, "miniatom: unknown command '%s'\n\n", cmd);
        usage(stderr);
        rc = MA_EXIT_USAGE;
    }
    xsltCleanupGlobals();
    xmlCleanupParser();
    return rc;
}
