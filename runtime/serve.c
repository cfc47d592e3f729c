/* serve.c - `miniatom serve`: reads the settings (the --config files in their order, then --set and
 * the option shorthands, later ones winning; miniatom/config.h remembers where each came from so that
 * problems name the file and line) and hands them to the server (runtime/server.c). Also
 * --check-config and --hash-token (docs/server.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server.h"
#include "util.h"

#define MAX_TOKEN 4096
#define DEFAULT_ITERATIONS 10000

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: miniatom serve [--deploy DIR] [--listen ADDR:PORT] [--data DIR] [--config FILE]\n"
            "                      [--set KEY=VALUE]... [--plugins DIR] [--check-config]\n"
            "                      [--strict]\n"
            "       miniatom serve --hash-token [--iterations N] < token\n"
            "\n"
            "Serves the processes of a deploy folder over HTTP: the Web Services Server at /ws/, the Flow\n"
            "Services Server at /fs/ (and the listeners of plugins), and GET /health. Logs one JSON line per\n"
            "request on stderr. A process that cannot run is logged with its reasons and answered 503.\n"
            "SIGTERM (or Ctrl-C) stops accepting, lets running executions finish (server.drain.timeout),\n"
            "then exits 0; SIGHUP reloads the deploy folder and keeps the running deployment when the new\n"
            "one is not valid.\n"
            "\n"
            "Options:\n"
            "  --deploy DIR        deploy folder of component XML files (server.deploy; default:\n"
            "                      ./processes, else .)\n"
            "  --listen ADDR:PORT  address to listen on (server.listen; default 127.0.0.1:9090; port 0\n"
            "                      picks a free one, named in the \"listening\" log line)\n"
            "  --data DIR          data folder: execution history, persisted properties (server.data;\n"
            "                      default ./data)\n"
            "  --config FILE       configuration, one 'key = value' per line (repeatable)\n"
            "  --set KEY=VALUE     one setting; wins over --config (repeatable)\n"
            "  --plugins DIR       load shape, connector and listener plugins (*.so) from DIR\n"
            "                      (server.plugins)\n"
            "  --strict            refuse a deployment in which a process cannot run (exit 3), on start\n"
            "                      and on SIGHUP\n"
            "  --check-config      check the configuration and the deployment as serve would, and exit: 0\n"
            "                      valid, 2 the configuration is not (each problem is printed with its file\n"
            "                      and line), 3 the deployment would not be served\n"
            "  --hash-token        read a Basic authentication token on stdin and print the form to store\n"
            "                      as auth.<listener>.user.<name> (salted PBKDF2-SHA256)\n"
            "  --iterations N      PBKDF2 iterations for --hash-token (default %d)\n"
            "  -h, --help          this help\n"
            "\n"
            "Every configuration key, with its default, is in docs/server.md.\n"
            "Exit status: 0 stopped by a signal (or valid configuration), 1 cannot start (address in use,\n"
            "data folder), 2 usage or configuration error, 3 the deployment is not valid.\n",
            DEFAULT_ITERATIONS);
}

static int hash_token(unsigned iterations)
{
    char *buf = malloc(MAX_TOKEN + 2);
    if (!buf) return MA_EXIT_FAILED;
    size_t n = fread(buf, 1, MAX_TOKEN + 1, stdin);
    int rc = MA_EXIT_USAGE;
    if (n > MAX_TOKEN) {
        fprintf(stderr, "miniatom: the token is longer than %d bytes\n", MAX_TOKEN);
        goto out;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
    buf[n] = '\0';
    if (!n) {
        fprintf(stderr, "miniatom: --hash-token reads the token on stdin; it was empty\n");
        goto out;
    }
    if (memchr(buf, '\n', n) || memchr(buf, '\0', n)) {
        fprintf(stderr, "miniatom: a token is one line of text\n");
        goto out;
    }
    ma_error err;
    ma_error_clear(&err);
    char *h = ma_server_hash_token(buf, n, iterations, &err);
    if (!h) {
        fprintf(stderr, "miniatom: %s\n", err.msg);
        rc = MA_EXIT_FAILED;
        goto out;
    }
    printf("%s\n", h);
    free(h);
    rc = 0;
out:
    for (size_t i = 0; i < MAX_TOKEN + 2; i++) ((volatile char *)buf)[i] = 0;
    free(buf);
    return rc;
}

enum {
    OPT_DEPLOY = 256,
    OPT_LISTEN,
    OPT_DATA,
    OPT_CONFIG,
    OPT_SET,
    OPT_PLUGINS,
    OPT_CHECK,
    OPT_HASH,
    OPT_ITER,
    OPT_STRICT
};

int ma_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},
        {"listen", required_argument, 0, OPT_LISTEN},
        {"data", required_argument, 0, OPT_DATA},
        {"config", required_argument, 0, OPT_CONFIG},
        {"set", required_argument, 0, OPT_SET},
        {"plugins", required_argument, 0, OPT_PLUGINS},
        {"check-config", no_argument, 0, OPT_CHECK},
        {"hash-token", no_argument, 0, OPT_HASH},
        {"iterations", required_argument, 0, OPT_ITER},
        {"strict", no_argument, 0, OPT_STRICT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    /* Two passes: the configuration files first, then the command-line settings in their order. */
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    int check = 0, hash = 0, strict = 0, rc = MA_EXIT_USAGE, o;
    unsigned long iterations = DEFAULT_ITERATIONS;
    ma_settings *cmd = ma_settings_new(), *s = ma_settings_new();
    ma_error err;
    ma_error_clear(&err);
    if (!files || !cmd || !s) goto out;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *key = NULL, *origin = NULL;
        switch (o) {
        case OPT_DEPLOY: key = "server.deploy", origin = "--deploy"; break;
        case OPT_LISTEN: key = "server.listen", origin = "--listen"; break;
        case OPT_DATA: key = "server.data", origin = "--data"; break;
        case OPT_PLUGINS: key = "server.plugins", origin = "--plugins"; break;
        case OPT_CONFIG: files[n_files++] = optarg; break;
        case OPT_SET:
            if (ma_settings_add_arg(cmd, optarg, &err) < 0) {
                fprintf(stderr, "miniatom: %s\n", err.msg);
                goto out;
            }
            break;
        case OPT_CHECK: check = 1; break;
        case OPT_HASH: hash = 1; break;
        case OPT_STRICT: strict = 1; break;
        case OPT_ITER: {
            char *end;
            errno = 0;
            iterations = strtoul(optarg, &end, 10);
            if (errno || *end || !*optarg || iterations < 1000 || iterations > 10000000) {
                fprintf(stderr, "miniatom: --iterations wants a number from 1000 to 10000000, not '%s'\n", optarg);
                goto out;
            }
            break;
        }
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default: usage(stderr); goto out;
        }
        if (key && ma_settings_add(cmd, key, optarg, origin, &err) < 0) {
            fprintf(stderr, "miniatom: %s\n", err.msg);
            goto out;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "miniatom serve: unexpected argument '%s'\n\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (hash) {
        rc = hash_token((unsigned)iterations);
        goto out;
    }
    for (size_t i = 0; i < n_files; i++)
        if (ma_settings_load_file(s, files[i], &err) < 0) {
            fprintf(stderr, "miniatom: --config: %s\n", err.msg);
            goto out;
        }
    for (size_t i = 0; i < ma_settings_count(cmd); i++) {
        const char *k, *v, *origin;
        ma_settings_at(cmd, i, &k, &v, &origin);
        if (ma_settings_add(s, k, v, origin, &err) < 0) {
            fprintf(stderr, "miniatom: %s\n", err.msg);
            goto out;
        }
    }
    rc = check ? ma_server_check(s, strict) : ma_server_run(s, strict);
out:
    ma_settings_free(cmd);
    ma_settings_free(s);
    free(files);
    return rc;
}
