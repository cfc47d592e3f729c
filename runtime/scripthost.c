/* scripthost.c - the client of the script host (scripthost.h): starts the JVM of scripthost/ on
 * the first script run, speaks its framed protocol (docs/decisions/019-scripting.md) over a Unix
 * socket pair, answers its property reads, and kills and restarts it when it crashes or runs past
 * the timeout. Boomi runs Custom Scripting in the Atom's JVM; here the JVM is a child process. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miniatom/helpers.h"
#include "scripthost.h"
#include "util.h"

extern char **environ;

#define MAX_FRAME ((uint64_t)INT32_MAX - 64)
#define MAX_KNOWN 256
#define START_TIMEOUT_MS 60000u

const ma_config_entry ma_script_config_map[] = {
    {.key = "timeout",
     .kind = MA_CONFIG_DURATION,
     .def = "60s",
     .min = 1,
     .max = 86400000,
     .description = "longest run of one Custom Scripting batch; past it the script host is killed and the "
                    "batch's documents fail",
     .at = MA_CONFIG_AT(ma_script_cfg, timeout_ms)},
    {.key = "java",
     .kind = MA_CONFIG_STRING,
     .def = "",
     .flags = MA_CONFIG_EMPTY,
     .description = "the java program that runs the script host (empty: the one configure found)",
     .at = MA_CONFIG_AT(ma_script_cfg, java)},
    {.key = "jar",
     .kind = MA_CONFIG_STRING,
     .def = "",
     .flags = MA_CONFIG_EMPTY,
     .description = "the script host jar (empty: the installed one, or the build tree's when miniatom runs there)",
     .at = MA_CONFIG_AT(ma_script_cfg, jar)},
    {.key = "network",
     .kind = MA_CONFIG_BOOL,
     .def = "false",
     .description = "scripts may open network connections (off: own network namespace and a security manager)",
     .at = MA_CONFIG_AT(ma_script_cfg, network)},
    {.key = "max_memory",
     .kind = MA_CONFIG_SIZE,
     .def = "512MB",
     .min = 32u << 20,
     .max = 1ull << 40,
     .description = "the script host JVM's heap limit (-Xmx)",
     .at = MA_CONFIG_AT(ma_script_cfg, max_memory)},
    MA_CONFIG_END,
};

/* ---- the host process (one per miniatom) ---------------------------------------------------------- */

typedef struct host {
    pthread_mutex_t mu;
    pid_t pid;
    int fd;          /* our end of the socket pair, nonblocking; -1 when not running */
    char *dir;       /* the host's folder (mkdtemp), removed when it stops: host.log and work/ */
    char *workdir;   /* dir/work: the scripts' folder and the JVM's working directory */
    unsigned starts; /* times started */
    uint64_t start_ms;
    int unshare_mode;          /* 0: try "unshare -rn", 1: try "unshare -n", 2: none */
    uint64_t known[MAX_KNOWN]; /* script keys compiled in this host */
    size_t n_known;
    int atexit_done;
} host;

static host g_host = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static void host_kill(host *h)
{
    if (h->fd >= 0) close(h->fd);
    h->fd = -1;
    if (h->pid > 0) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR) {}
    }
    h->pid = 0;
    h->n_known = 0;
    if (h->dir) ma_remove_tree(h->dir);
    free(h->dir);
    free(h->workdir);
    h->dir = h->workdir = NULL;
}

/* Appends the end of the host's log (what the JVM wrote on stderr) to err: why it died. */
static void log_tail(const host *h, ma_error *err)
{
    if (!h->dir) return;
    char path[4200], buf[400];
    snprintf(path, sizeof path, "%s/host.log", h->dir);
    FILE *f = fopen(path, "rb");
    if (!f) return;
    long n = 0;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > (long)sizeof buf - 1)
        fseek(f, n - (long)sizeof buf + 1, SEEK_SET);
    else fseek(f, 0, SEEK_SET);
    size_t r = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[r] = '\0';
    while (r && (buf[r - 1] == '\n' || buf[r - 1] == '\r')) buf[--r] = '\0';
    if (!r) return;
    for (char *p = buf; *p; p++)
        if (*p == '\n') *p = ' ';
    size_t l = strlen(err->msg);
    snprintf(err->msg + l, sizeof err->msg - l, " (the host's log ends: ...%s)", buf);
}

void ma_script_host_stop(void)
{
    pthread_mutex_lock(&g_host.mu);
    host_kill(&g_host);
    pthread_mutex_unlock(&g_host.mu);
}

static void at_exit(void) { ma_script_host_stop(); }

int ma_script_host_pid(void)
{
    pthread_mutex_lock(&g_host.mu);
    int p = (int)g_host.pid;
    pthread_mutex_unlock(&g_host.mu);
    return p;
}

unsigned ma_script_host_starts(void)
{
    pthread_mutex_lock(&g_host.mu);
    unsigned n = g_host.starts;
    pthread_mutex_unlock(&g_host.mu);
    return n;
}

uint64_t ma_script_host_last_start_ms(void)
{
    pthread_mutex_lock(&g_host.mu);
    uint64_t n = g_host.start_ms;
    pthread_mutex_unlock(&g_host.mu);
    return n;
}

/* ---- where things are ------------------------------------------------------------------------------- */

static int executable(const char *p) { return p && *p && access(p, X_OK) == 0; }
static int readable(const char *p) { return p && *p && access(p, R_OK) == 0; }

static const char *java_of(const ma_script_cfg *cfg)
{
    if (cfg && cfg->java && *cfg->java) return cfg->java;
#ifdef MA_JAVA
    return MA_JAVA;
#else
    return "";
#endif
}

/* The host jar: the setting, else the build tree's when this binary is in the build tree, else the
 * installed one. Returns a malloc'ed path or NULL. */
static char *jar_of(const ma_script_cfg *cfg)
{
    if (cfg && cfg->jar && *cfg->jar) return ma_strdup(cfg->jar);
#ifdef MA_SCRIPTHOST_BUILD_JAR
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        const char *bd = MA_BUILDDIR;
        size_t bl = strlen(bd);
        if (strncmp(self, bd, bl) == 0 && self[bl] == '/' && readable(MA_SCRIPTHOST_BUILD_JAR))
            return ma_strdup(MA_SCRIPTHOST_BUILD_JAR);
    }
#endif
#ifdef MA_SCRIPTHOST_JAR
    if (readable(MA_SCRIPTHOST_JAR)) return ma_strdup(MA_SCRIPTHOST_JAR);
#endif
#ifdef MA_SCRIPTHOST_BUILD_JAR
    if (readable(MA_SCRIPTHOST_BUILD_JAR)) return ma_strdup(MA_SCRIPTHOST_BUILD_JAR);
#endif
    return NULL;
}

int ma_script_available(const ma_script_cfg *cfg, char *why, size_t whyn)
{
#ifndef HAVE_SCRIPTING
    (void)cfg;
    snprintf(why, whyn,
             "this miniatom was built without scripting (./configure --with-scripting=no, or java, javac, "
             "groovy-all.jar or js.jar were missing: apt-get install -y default-jdk-headless groovy librhino-java)");
    return 0;
#else
    const char *java = java_of(cfg);
    if (!executable(java)) {
        snprintf(why, whyn, "no Java runtime found at '%s' (script.java; apt-get install -y default-jre-headless)",
                 java);
        return 0;
    }
    char *jar = jar_of(cfg);
    if (!jar) {
        snprintf(why, whyn,
                 "the script host jar was not found (make builds it, make install installs it at %s; "
#ifdef MA_SCRIPTHOST_JAR
                 "or set script.jar)",
                 MA_SCRIPTHOST_JAR);
#else
                 "or set script.jar)",
                 "?");
#endif
        return 0;
    }
    free(jar);
    if (!readable(MA_GROOVY_JAR) || !readable(MA_RHINO_JAR)) {
        snprintf(why, whyn, "%s or %s is missing (apt-get install -y groovy librhino-java)", MA_GROOVY_JAR,
                 MA_RHINO_JAR);
        return 0;
    }
    return 1;
#endif
}

/* ---- socket I/O with a deadline ----------------------------------------------------------------- */

typedef struct io {
    int fd;
    uint64_t deadline_ns;
    int (*must_stop)(void);
    ma_error *err;
} io;

/* Waits for events on the socket: 0 ready, -1 with err (timeout, stop, hang-up). */
static int io_wait(io *o, short events)
{
    for (;;) {
        uint64_t now = ma_now_ns();
        if (now >= o->deadline_ns)
            return ma_error_set(o->err, MA_ERR_RUNTIME, "the script ran past its timeout (script.timeout)");
        if (o->must_stop && o->must_stop())
            return ma_error_set(o->err, MA_ERR_RUNTIME, "the execution was stopped while the script ran");
        uint64_t left_ms = (o->deadline_ns - now) / 1000000u + 1;
        int ms = left_ms > 100 ? 100 : (int)left_ms;
        struct pollfd p = {.fd = o->fd, .events = events};
        int r = poll(&p, 1, ms);
        if (r < 0 && errno != EINTR) return ma_error_set(o->err, MA_ERR_IO, "poll: %s", strerror(errno));
        if (r > 0) return 0;
    }
}

static int io_write(io *o, const char *buf, size_t n)
{
    while (n) {
        ssize_t w = send(o->fd, buf, n, MSG_NOSIGNAL);
        if (w > 0) {
            buf += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (io_wait(o, POLLOUT) < 0) return -1;
            continue;
        }
        return ma_error_set(o->err, MA_ERR_IO, "the script host went away (%s)", w < 0 ? strerror(errno) : "closed");
    }
    return 0;
}

static int io_read(io *o, char *buf, size_t n)
{
    while (n) {
        ssize_t r = recv(o->fd, buf, n, 0);
        if (r > 0) {
            buf += r;
            n -= (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (io_wait(o, POLLIN) < 0) return -1;
            continue;
        }
        return ma_error_set(o->err, MA_ERR_IO, "the script host died (%s)", r < 0 ? strerror(errno) : "end of stream");
    }
    return 0;
}

/* Reads one frame: *body (malloc'ed, caller frees) of *len bytes, the first one the op. */
static int read_frame(io *o, char **body, size_t *len)
{
    unsigned char h[4];
    if (io_read(o, (char *)h, 4) < 0) return -1;
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n < 1 || n > MAX_FRAME) return ma_error_set(o->err, MA_ERR_IO, "the script host sent a bad frame (%u)", n);
    char *b = malloc(n);
    if (!b) return ma_error_set(o->err, MA_ERR_NOMEM, "out of memory");
    if (io_read(o, b, n) < 0) {
        free(b);
        return -1;
    }
    *body = b;
    *len = n;
    return 0;
}

/* ---- frame building and parsing ----------------------------------------------------------------- */

static void put_u32(ma_sb *b, uint32_t v)
{
    char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
    ma_sb_append(b, x, 4);
}

static void put_bytes(ma_sb *b, const char *s, size_t n)
{
    put_u32(b, (uint32_t)n);
    ma_sb_append(b, s, n);
}

static void put_str(ma_sb *b, const char *s) { put_bytes(b, s ? s : "", s ? strlen(s) : 0); }

/* Starts a frame: room for the length, then the op. */
static void frame_begin(ma_sb *b, char op)
{
    ma_sb_reset(b);
    put_u32(b, 0);
    ma_sb_putc(b, op);
}

static int frame_end(ma_sb *b, ma_error *err)
{
    if (b->oom) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (b->len - 4 > MAX_FRAME) return ma_error_set(err, MA_ERR_LIMIT, "the batch is too large for the script host");
    uint32_t n = (uint32_t)(b->len - 4);
    b->s[0] = (char)(n >> 24);
    b->s[1] = (char)(n >> 16);
    b->s[2] = (char)(n >> 8);
    b->s[3] = (char)n;
    return 0;
}

typedef struct cur {
    const unsigned char *p, *end;
    int bad;
} cur;

static uint32_t get_u32(cur *c)
{
    if (c->end - c->p < 4) {
        c->bad = 1;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    return v;
}

static int get_u8(cur *c)
{
    if (c->p >= c->end) {
        c->bad = 1;
        return 0;
    }
    return *c->p++;
}

/* A malloc'ed NUL-terminated copy of the next field (*n its length), NULL when bad or no memory. */
static char *get_bytes(cur *c, size_t *n)
{
    uint32_t l = get_u32(c);
    if (c->bad || (size_t)(c->end - c->p) < l) {
        c->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)l + 1);
    if (!s) {
        c->bad = 1;
        return NULL;
    }
    memcpy(s, c->p, l);
    s[l] = '\0';
    c->p += l;
    if (n) *n = l;
    return s;
}

static char *get_str(cur *c) { return get_bytes(c, NULL); }

/* ---- starting the host -------------------------------------------------------------------------- */

static int host_start(host *h, const ma_script_cfg *cfg, ma_error *err)
{
#ifndef HAVE_SCRIPTING
    (void)h;
    (void)cfg;
    return ma_error_set(err, MA_ERR_UNSUPPORTED, "this miniatom was built without scripting");
#else
    char why[600];
    if (!ma_script_available(cfg, why, sizeof why)) return ma_error_set(err, MA_ERR_UNSUPPORTED, "%s", why);
    if (!h->atexit_done) {
        atexit(at_exit);
        h->atexit_done = 1;
    }
    const char *tmp = getenv("TMPDIR");
    char *wd = ma_asprintf("%s/miniatom-script-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *jar = jar_of(cfg);
    char *cp = jar ? ma_asprintf("%s:%s:%s", jar, MA_GROOVY_JAR, MA_RHINO_JAR) : NULL;
    char *xmx = ma_asprintf("-Xmx%llum", (unsigned long long)(cfg->max_memory >> 20));
    char *logpath = NULL;
    int rc = -1;
    if (!wd || !jar || !cp || !xmx) {
        ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!mkdtemp(wd)) {
        ma_error_set(err, MA_ERR_IO, "cannot make the script host's folder under %s: %s", tmp ? tmp : "/tmp",
                     strerror(errno));
        goto out;
    }
    h->dir = wd;
    wd = NULL;
    h->workdir = ma_asprintf("%s/work", h->dir);
    logpath = ma_asprintf("%s/host.log", h->dir);
    if (!h->workdir || !logpath || mkdir(h->workdir, 0700) < 0) {
        ma_error_set(err, MA_ERR_IO, "cannot make the script host's folder %s/work", h->dir);
        goto out;
    }
    for (;;) {
        const char *argv[32];
        int a = 0;
        int mode = cfg->network ? 2 : h->unshare_mode;
        if (mode < 2 && !executable("/usr/bin/unshare")) mode = h->unshare_mode = 2;
        if (mode == 0) {
            argv[a++] = "/usr/bin/unshare";
            argv[a++] = "-rn";
        } else if (mode == 1) {
            argv[a++] = "/usr/bin/unshare";
            argv[a++] = "-n";
        }
        argv[a++] = java_of(cfg);
        argv[a++] = xmx;
        argv[a++] = "-XX:+UseSerialGC";
        argv[a++] = "-XX:+ExitOnOutOfMemoryError"; /* a script that ran out of memory takes the host down */
        argv[a++] = "-Xss4m";
        argv[a++] = "-Djava.security.manager=allow";
        argv[a++] = "-Djava.awt.headless=true";
        argv[a++] = "-Dfile.encoding=UTF-8";
        argv[a++] = "-cp";
        argv[a++] = cp;
        argv[a++] = "org.miniatom.scripthost.Host";
        argv[a++] = "--network";
        argv[a++] = cfg->network ? "yes" : "no";
        argv[a++] = "--workdir";
        argv[a++] = h->workdir;
        argv[a] = NULL;

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            ma_error_set(err, MA_ERR_IO, "socketpair: %s", strerror(errno));
            goto out;
        }
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
        posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
        posix_spawn_file_actions_addchdir_np(&fa, h->workdir);
#endif
        sigset_t none, def;
        sigemptyset(&none);
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigaddset(&def, SIGINT);
        sigaddset(&def, SIGTERM);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &def);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid;
        uint64_t t0 = ma_now_ns();
        int e = posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(sv[1]);
        if (e != 0) {
            close(sv[0]);
            ma_error_set(err, MA_ERR_IO, "cannot start %s: %s", argv[0], strerror(e));
            goto out;
        }
        fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
        h->fd = sv[0];
        h->pid = pid;
        uint64_t tmo = cfg->timeout_ms > START_TIMEOUT_MS ? cfg->timeout_ms : START_TIMEOUT_MS;
        io o = {.fd = h->fd, .deadline_ns = t0 + tmo * 1000000u, .must_stop = NULL, .err = err};
        char *body = NULL;
        size_t len = 0;
        if (read_frame(&o, &body, &len) == 0 && body[0] == 'Y') {
            free(body);
            h->start_ms = (ma_now_ns() - t0) / 1000000u;
            h->starts++;
            h->n_known = 0;
            rc = 0;
            goto out;
        }
        free(body);
        /* the host did not come up: without the namespace when that was what failed */
        close(h->fd);
        h->fd = -1;
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR) {}
        h->pid = 0;
        if (mode < 2 && ma_now_ns() - t0 < 10000000000ull) { /* it failed at once: unshare was refused */
            h->unshare_mode = mode + 1;
            continue;
        }
        ma_error_prefix(err, "the script host (%s) did not start", java_of(cfg));
        log_tail(h, err);
        goto out;
    }
out:
    if (rc < 0) host_kill(h);
    free(wd);
    free(logpath);
    free(jar);
    free(cp);
    free(xmx);
    return rc;
#endif
}

/* ---- one run ------------------------------------------------------------------------------------ */

static uint64_t script_key(const char *lang, const char *src)
{
    uint64_t hsh = 1469598103934665603ull;
    for (const char *p = lang; *p; p++) hsh = (hsh ^ (unsigned char)*p) * 1099511628211ull;
    hsh = (hsh ^ 0xffu) * 1099511628211ull;
    for (const char *p = src; *p; p++) hsh = (hsh ^ (unsigned char)*p) * 1099511628211ull;
    return hsh ^ (uint64_t)strlen(src) << 1;
}

void ma_script_result_free(ma_script_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n_logs; i++) free(r->logs[i].message);
    free(r->logs);
    for (size_t i = 0; i < r->n_writes; i++) {
        free(r->writes[i].a);
        free(r->writes[i].b);
        free(r->writes[i].value);
    }
    free(r->writes);
    free(r->message);
    for (size_t i = 0; i < r->n_values; i++) free(r->values[i]);
    free(r->values);
    ma_batch_clear(&r->out);
    memset(r, 0, sizeof *r);
}

/* Parses a 'D' (documents) or 'F' (function values) frame after the op into res. 0 or -1 (a
 * malformed frame or no memory). */
static int parse_done(cur *c, int op, ma_script_result *res)
{
    uint32_t n = get_u32(c);
    if (c->bad || n > (uint32_t)(c->end - c->p)) return -1;
    if (n && !(res->logs = calloc(n, sizeof *res->logs))) return -1;
    for (uint32_t i = 0; i < n && !c->bad; i++) {
        res->logs[i].level = get_u8(c);
        res->logs[i].message = get_str(c);
        res->n_logs++;
    }
    uint32_t nd = get_u32(c);
    if (c->bad || nd > (uint32_t)(c->end - c->p)) return -1;
    uint32_t np_at = 0;
    /* the dynamic writes, then the defined ones, into one list */
    size_t cap = nd;
    if (cap && !(res->writes = calloc(cap, sizeof *res->writes))) return -1;
    for (uint32_t i = 0; i < nd && !c->bad; i++) {
        ma_script_write *w = &res->writes[res->n_writes++];
        w->a = get_str(c);
        w->value = get_str(c);
        w->persist = get_u8(c);
    }
    np_at = get_u32(c);
    if (c->bad || np_at > (uint32_t)(c->end - c->p)) return -1;
    if (np_at) {
        ma_script_write *nw = realloc(res->writes, (cap + np_at) * sizeof *nw);
        if (!nw) return -1;
        res->writes = nw;
        memset(nw + cap, 0, np_at * sizeof *nw);
    }
    for (uint32_t i = 0; i < np_at && !c->bad; i++) {
        ma_script_write *w = &res->writes[res->n_writes++];
        w->a = get_str(c);
        w->b = get_str(c);
        w->value = get_str(c);
    }
    if (c->bad) return -1;
    res->failed = get_u8(c);
    if (res->failed) {
        res->message = get_str(c);
        res->line = (int)get_u32(c);
        return c->bad ? -1 : 0;
    }
    if (op == 'F') {
        uint32_t nv = get_u32(c);
        if (c->bad || nv > (uint32_t)(c->end - c->p)) return -1;
        if (nv && !(res->values = calloc(nv, sizeof *res->values))) return -1;
        res->n_values = nv;
        for (uint32_t i = 0; i < nv && !c->bad; i++) {
            int present = get_u8(c);
            char *v = get_str(c);
            if (present) res->values[i] = v;
            else free(v);
        }
        return c->bad ? -1 : 0;
    }
    uint32_t nout = get_u32(c);
    for (uint32_t i = 0; i < nout && !c->bad; i++) {
        uint32_t np = get_u32(c);
        if (c->bad || np > (uint32_t)(c->end - c->p)) return -1;
        char **kv = np ? calloc((size_t)np * 2, sizeof *kv) : NULL;
        if (np && !kv) return -1;
        for (uint32_t j = 0; j < np * 2 && !c->bad; j++) kv[j] = get_str(c);
        size_t dl = 0;
        char *data = get_bytes(c, &dl);
        ma_doc *d = data && !c->bad ? ma_doc_new_owned(data, dl) : (free(data), NULL);
        for (uint32_t j = 0; d && j < np; j++)
            if (kv[2 * j] && kv[2 * j + 1] && ma_doc_set_prop(&d, kv[2 * j], kv[2 * j + 1]) < 0) {
                ma_doc_unref(d);
                d = NULL;
            }
        for (uint32_t j = 0; j < np * 2; j++) free(kv[j]);
        free(kv);
        if (!d || ma_batch_push(&res->out, d) < 0) return -1;
    }
    return c->bad ? -1 : 0;
}

static int known(const host *h, uint64_t k)
{
    for (size_t i = 0; i < h->n_known; i++)
        if (h->known[i] == k) return 1;
    return 0;
}

static void remember(host *h, uint64_t k)
{
    if (h->n_known == MAX_KNOWN) h->n_known = 0;
    h->known[h->n_known++] = k;
}

/* Sends 'C' and reads its answer: 0 compiled, 1 a compile error (res filled), -1 with err. */
static int compile_in_host(host *h, io *o, const char *lang, const char *src, const char *key, ma_script_result *res,
                           ma_error *err)
{
    ma_sb b;
    ma_sb_init(&b);
    frame_begin(&b, 'C');
    put_str(&b, key);
    put_str(&b, lang);
    put_str(&b, src);
    if (frame_end(&b, err) < 0 || io_write(o, b.s, b.len) < 0) {
        ma_sb_free(&b);
        return -1;
    }
    ma_sb_free(&b);
    char *body = NULL;
    size_t len = 0;
    if (read_frame(o, &body, &len) < 0) return -1;
    int rc = 0;
    if (body[0] == 'O') {
        remember(h, script_key(lang, src));
    } else if (body[0] == 'E') {
        cur c = {(const unsigned char *)body + 1, (const unsigned char *)body + len, 0};
        char *m = get_str(&c);
        int line = (int)get_u32(&c);
        res->failed = 1;
        res->message = ma_asprintf("the script does not compile: %s", m ? m : "?");
        res->line = line;
        free(m);
        rc = res->message ? 1 : ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    } else {
        rc = ma_error_set(err, MA_ERR_IO, "the script host answered '%c' to a compile", body[0]);
    }
    free(body);
    return rc;
}

/* The run's context: runtime properties, then empty property snapshots (read with 'G'). */
static void put_context(ma_sb *b, const ma_script_run_ctx *ctx)
{
    put_u32(b, 5);
    put_str(b, "EXECUTION_ID");
    put_str(b, ctx->execution_id);
    put_str(b, "PROCESS_ID");
    put_str(b, ctx->process_id);
    put_str(b, "PROCESS_NAME");
    put_str(b, ctx->process_name);
    put_str(b, "ATOM_NAME");
    put_str(b, ctx->atom_name);
    put_str(b, "ATOM_ID");
    put_str(b, ctx->atom_name);
    put_u32(b, 0);                                  /* no dynamic process properties in advance: asked with 'G' */
    put_u32(b, 0);                                  /* nor defined ones */
    put_str(b, ctx->temp_dir ? ctx->temp_dir : ""); /* the request's folder ("": the host's) */
}

/* Builds the 'R' frame into b. */
static int build_run(ma_sb *b, const char *key, const ma_script_run_ctx *ctx, const ma_batch *in, ma_error *err)
{
    frame_begin(b, 'R');
    put_str(b, key);
    put_context(b, ctx);
    put_u32(b, (uint32_t)in->len);
    for (size_t i = 0; i < in->len; i++) {
        const ma_doc *d = in->docs[i];
        size_t np = ma_doc_prop_count(d);
        put_u32(b, (uint32_t)np);
        for (size_t j = 0; j < np; j++) {
            const char *id, *v;
            ma_doc_prop_at(d, j, &id, &v);
            put_str(b, id);
            put_str(b, v);
        }
        size_t len;
        const char *data = ma_doc_data(d, &len);
        put_bytes(b, data, len);
        if (b->oom || b->len > MAX_FRAME) break;
    }
    return frame_end(b, err);
}

/* Answers a 'G' frame. */
static int answer_lookup(io *o, const ma_script_run_ctx *ctx, const char *body, size_t len, ma_error *err)
{
    cur c = {(const unsigned char *)body + 1, (const unsigned char *)body + len, 0};
    int kind = get_u8(&c);
    char *a = get_str(&c), *bb = get_str(&c);
    char *v = NULL;
    if (!c.bad && ctx->lookup) v = ctx->lookup(ctx->lookup_ctx, kind, a, bb);
    free(a);
    free(bb);
    if (c.bad) {
        free(v);
        return ma_error_set(err, MA_ERR_IO, "the script host sent a bad property read");
    }
    ma_sb b;
    ma_sb_init(&b);
    frame_begin(&b, 'V');
    ma_sb_putc(&b, v ? 1 : 0);
    put_str(&b, v);
    free(v);
    int rc = frame_end(&b, err) < 0 || io_write(o, b.s, b.len) < 0 ? -1 : 0;
    ma_sb_free(&b);
    return rc;
}

/* Whether the host process is still there (a host killed between runs is started again). */
static int host_alive(host *h)
{
    if (h->fd < 0 || h->pid <= 0) return 0;
    int st;
    pid_t r = waitpid(h->pid, &st, WNOHANG);
    if (r == h->pid) {
        h->pid = 0; /* reaped */
        return 0;
    }
    return !(r < 0 && errno == ECHILD);
}

static void key_of(const char *lang, const char *src, char key[64])
{
    snprintf(key, 64, "%s:%016llx", lang, (unsigned long long)script_key(lang, src));
}

/* Sends the built request b (key in it) and reads the answer ('D' or 'F') into res: 0, or -1 when
 * the host failed (err filled; the caller kills it). */
static int run_locked(host *h, const ma_script_cfg *cfg, const char *lang, const char *src,
                      const ma_script_run_ctx *ctx, const ma_sb *b, ma_script_result *res, ma_error *err)
{
    if (h->fd >= 0 && !host_alive(h)) host_kill(h);
    if (h->fd < 0 && host_start(h, cfg, err) < 0) return -1;
    uint64_t k = script_key(lang, src);
    char key[64];
    key_of(lang, src, key);
    io o = {
        .fd = h->fd, .deadline_ns = ma_now_ns() + cfg->timeout_ms * 1000000u, .must_stop = ctx->must_stop, .err = err};
    if (!known(h, k)) {
        int c = compile_in_host(h, &o, lang, src, key, res, err);
        if (c != 0) return c < 0 ? -1 : 0;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (io_write(&o, b->s, b->len) < 0) return -1;
        char *body = NULL;
        size_t len = 0;
        for (;;) {
            if (read_frame(&o, &body, &len) < 0) return -1;
            if (body[0] != 'G') break;
            int r = answer_lookup(&o, ctx, body, len, err);
            free(body);
            body = NULL;
            if (r < 0) return -1;
        }
        if (body[0] == 'U' && attempt == 0) { /* the host forgot it: compile and send again */
            free(body);
            int c = compile_in_host(h, &o, lang, src, key, res, err);
            if (c != 0) return c < 0 ? -1 : 0;
            continue;
        }
        if (body[0] != 'D' && body[0] != 'F') {
            ma_error_set(err, MA_ERR_IO, "the script host answered '%c' to a run", body[0]);
            free(body);
            return -1;
        }
        cur c = {(const unsigned char *)body + 1, (const unsigned char *)body + len, 0};
        int pr = parse_done(&c, body[0], res);
        free(body);
        if (pr < 0) {
            ma_script_result_free(res);
            return ma_error_set(err, MA_ERR_IO, "the script host sent a malformed answer (or memory ran out)");
        }
        return 0;
    }
    return ma_error_set(err, MA_ERR_IO, "the script host lost the compiled script twice");
}

/* Runs the built request b under the host's lock. */
static int exchange(const ma_script_cfg *cfg, const char *lang, const char *src, const ma_script_run_ctx *ctx,
                    const ma_sb *b, ma_script_result *res, ma_error *err)
{
    pthread_mutex_lock(&g_host.mu);
    int rc = run_locked(&g_host, cfg, lang, src, ctx, b, res, err);
    if (rc < 0) {
        ma_script_result_free(res);
        if (err && strstr(err->msg, "died")) log_tail(&g_host, err);
        host_kill(&g_host); /* crashed, stuck or confused: the next run starts a new one */
    }
    pthread_mutex_unlock(&g_host.mu);
    return rc < 0 ? -1 : 0;
}

int ma_script_run(const ma_script_cfg *cfg, const char *language, const char *source, const ma_script_run_ctx *ctx,
                  const ma_batch *in, ma_script_result *res, ma_error *err)
{
    memset(res, 0, sizeof *res);
    ma_batch_init(&res->out);
    char key[64];
    key_of(language, source, key);
    ma_sb b;
    ma_sb_init(&b);
    if (build_run(&b, key, ctx, in, err) < 0) {
        ma_sb_free(&b);
        return -1;
    }
    int rc = exchange(cfg, language, source, ctx, &b, res, err);
    ma_sb_free(&b);
    return rc;
}

int ma_script_call(const ma_script_cfg *cfg, const char *language, const char *source, const ma_script_run_ctx *ctx,
                   const char *const *in_names, const char *const *in_values, size_t n_in, const char *const *out_names,
                   size_t n_out, ma_script_result *res, ma_error *err)
{
    memset(res, 0, sizeof *res);
    ma_batch_init(&res->out);
    char key[64];
    key_of(language, source, key);
    ma_sb b;
    ma_sb_init(&b);
    frame_begin(&b, 'M');
    put_str(&b, key);
    put_context(&b, ctx);
    put_u32(&b, (uint32_t)n_in);
    for (size_t i = 0; i < n_in; i++) {
        put_str(&b, in_names[i]);
        put_str(&b, in_values[i]);
    }
    put_u32(&b, (uint32_t)n_out);
    for (size_t i = 0; i < n_out; i++) put_str(&b, out_names[i]);
    int rc = frame_end(&b, err) < 0 ? -1 : exchange(cfg, language, source, ctx, &b, res, err);
    ma_sb_free(&b);
    if (rc == 0 && !res->failed && res->n_values != n_out) {
        ma_script_result_free(res);
        return ma_error_set(err, MA_ERR_IO, "the script host answered %zu values for %zu outputs", res->n_values,
                            n_out);
    }
    return rc;
}
