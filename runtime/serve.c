/* serve.c - `miniatom serve`: reads the configuration (key=value files in the spirit of Boomi's
 * container.properties, then --set and the option shorthands, later ones winning), remembers where
 * each setting came from so that problems name the file and line, and hands them to the server
 * (runtime/server.c). Also --check-config and --hash-token (docs/server.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server.h"
#include "util.h"

/* runtime/server.c (not in server.h yet: see the report) */
int ma_server_check_settings(const char *const *kv, const char *const *origin, size_t n);
int ma_server_run(const char *const *kv, const char *const *origin, size_t n);
char *ma_server_hash_token(const char *token, size_t len, unsigned iterations, ma_error *err);

#define MAX_CONFIG_FILE (1u << 20)
#define MAX_TOKEN 4096
#define DEFAULT_ITERATIONS 10000

typedef struct settings { /* "key=value" and where it came from, both owned */
    char **kv, **origin;
    size_t n;
} settings;

static void settings_free(settings *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->kv[i]);
        free(s->origin[i]);
    }
    free(s->kv);
    free(s->origin);
    memset(s, 0, sizeof *s);
}

static int settings_add(settings *s, char *kv, char *origin) /* takes both */
{
    char **nk = kv && origin ? realloc(s->kv, (s->n + 1) * sizeof *nk) : NULL;
    if (nk) s->kv = nk;
    char **no = nk ? realloc(s->origin, (s->n + 1) * sizeof *no) : NULL;
    if (!no) {
        free(kv);
        free(origin);
        fprintf(stderr, "miniatom: out of memory\n");
        return -1;
    }
    s->origin = no;
    s->kv[s->n] = kv;
    s->origin[s->n] = origin;
    s->n++;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = '\0';
    return s;
}

/* One "key = value" per line; '#' and '!' start comments (the format of settings.h). */
static int load_file(settings *s, const char *path)
{
    ma_error err;
    size_t len;
    char *buf = ma_read_file(path, MAX_CONFIG_FILE, &len, &err);
    if (!buf) {
        fprintf(stderr, "miniatom: --config: %s\n", err.msg);
        return -1;
    }
    int line = 0, rc = 0;
    for (char *l = buf; l && rc == 0;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = '\0';
        line++;
        char *t = trim(l);
        if (*t && *t != '#' && *t != '!') {
            char *eq = strchr(t, '=');
            if (!eq || eq == t) {
                fprintf(stderr, "miniatom: %s:%d: expected 'key = value'\n", path, line);
                rc = -1;
                break;
            }
            *eq = '\0';
            rc = settings_add(s, ma_asprintf("%s=%s", trim(t), trim(eq + 1)), ma_asprintf("%s:%d", path, line));
        }
        l = nl ? nl + 1 : NULL;
    }
    free(buf);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: miniatom serve [--deploy DIR] [--listen ADDR:PORT] [--data DIR] [--config FILE]\n"
            "                      [--set KEY=VALUE]... [--plugins DIR] [--check-config]\n"
            "       miniatom serve --hash-token [--iterations N] < token\n"
            "\n"
            "Serves the processes of a deploy folder over HTTP: the Web Services Server at /ws/, the Flow\n"
            "Services Server at /fs/, and GET /health. Logs one JSON line per request on stderr.\n"
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
            "  --plugins DIR       load shape and connector plugins (*.so) from DIR (server.plugins)\n"
            "  --check-config      validate the configuration and exit: 0 valid, 2 not (each problem is\n"
            "                      printed with its file and line)\n"
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

enum { OPT_DEPLOY = 256, OPT_LISTEN, OPT_DATA, OPT_CONFIG, OPT_SET, OPT_PLUGINS, OPT_CHECK, OPT_HASH, OPT_ITER };

int ma_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"deploy", required_argument, 0, OPT_DEPLOY},   {"listen", required_argument, 0, OPT_LISTEN},
        {"data", required_argument, 0, OPT_DATA},       {"config", required_argument, 0, OPT_CONFIG},
        {"set", required_argument, 0, OPT_SET},         {"plugins", required_argument, 0, OPT_PLUGINS},
        {"check-config", no_argument, 0, OPT_CHECK},    {"hash-token", no_argument, 0, OPT_HASH},
        {"iterations", required_argument, 0, OPT_ITER}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    /* Two passes: configuration files first, then the command-line settings in their order. */
    const char **overrides = calloc(2 * (size_t)argc + 2, sizeof *overrides); /* pairs of borrowed argv strings */
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_over = 0, n_files = 0;
    int check = 0, hash = 0, rc = MA_EXIT_USAGE, o;
    unsigned long iterations = DEFAULT_ITERATIONS;
    settings s;
    memset(&s, 0, sizeof s);
    if (!overrides || !files) goto out;
    optind = 1;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        const char *key = NULL;
        switch (o) {
        case OPT_DEPLOY: key = "server.deploy"; break;
        case OPT_LISTEN: key = "server.listen"; break;
        case OPT_DATA: key = "server.data"; break;
        case OPT_PLUGINS: key = "server.plugins"; break;
        case OPT_CONFIG: files[n_files++] = optarg; break;
        case OPT_SET:
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "miniatom: --set wants KEY=VALUE, not '%s'\n", optarg);
                goto out;
            }
            overrides[n_over++] = optarg;
            overrides[n_over++] = NULL; /* origin: --set */
            break;
        case OPT_CHECK: check = 1; break;
        case OPT_HASH: hash = 1; break;
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
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
        if (key) { /* stored as "key" then the value: joined below */
            overrides[n_over++] = key;
            overrides[n_over++] = optarg;
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
        if (load_file(&s, files[i]) < 0) goto out;
    for (size_t i = 0; i < n_over; i += 2) {
        int r;
        if (overrides[i + 1] == NULL) { /* --set KEY=VALUE, blanks around both dropped as in a file */
            char *kv = ma_strdup(overrides[i]), *eq = kv ? strchr(kv, '=') : NULL;
            if (eq) *eq = '\0';
            r = settings_add(&s, eq ? ma_asprintf("%s=%s", trim(kv), trim(eq + 1)) : NULL, ma_strdup("--set"));
            free(kv);
        } else
            r = settings_add(&s, ma_asprintf("%s=%s", overrides[i], overrides[i + 1]),
                             ma_asprintf("--%s", strchr(overrides[i], '.') + 1));
        if (r < 0) goto out;
    }
    if (check) {
        int problems = ma_server_check_settings((const char *const *)s.kv, (const char *const *)s.origin, s.n);
        if (problems) {
            fprintf(stderr, "miniatom: %d problem%s in the configuration\n", problems, problems == 1 ? "" : "s");
            rc = MA_EXIT_USAGE;
        } else {
            printf("configuration OK (%zu setting%s)\n", s.n, s.n == 1 ? "" : "s");
            rc = 0;
        }
        goto out;
    }
    rc = ma_server_run((const char *const *)s.kv, (const char *const *)s.origin, s.n);
out:
    settings_free(&s);
    free(overrides);
    free(files);
    return rc;
}
