/* dataprocess_pgp.c - the Data Process steps PGP Encrypt (processtype 2, <dataprocesspgpencrypt>)
 * and PGP Decrypt (processtype 3, <dataprocesspgpdecrypt>), with GnuPG through gpgme. Keys come
 * from the certificate component the step names (Boomi's PGP certificates) or from a key file in
 * the settings (pgp.<certificate id or name>.key_file); each step gets a private GnuPG home, made
 * at deploy and removed at undeploy, and nothing goes to the network (docs/decisions/023-pgp.md). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/tree.h>

#include "dataprocess_step.h"
#include "lazy_gpgme.h"
#include "miniatom/deploy.h"
#include "process.h"
#include "util.h"

extern char **environ;

#define MAX_KEY_FILE (16u << 20)
#define MAX_PASSPHRASE 4096

const ma_config_entry ma_pgp_config_map[] = {
    {.key = "*.key_file",
     .kind = MA_CONFIG_FILE,
     .description = "an OpenPGP key file (armored or binary) for the certificate with this component id or name; "
                    "used instead of the certificate component"},
    {.key = "*.passphrase",
     .kind = MA_CONFIG_STRING,
     .flags = MA_CONFIG_SECRET | MA_CONFIG_EMPTY,
     .description = "the passphrase of that certificate's private key (PGP Decrypt, signing)"},
    {.key = "*.passphrase_file",
     .kind = MA_CONFIG_FILE,
     .description = "a file holding that passphrase (one trailing line break is dropped)"},
    {.key = "home_parent",
     .kind = MA_CONFIG_DIR,
     .description = "where each PGP step's private GnuPG home is made (default $TMPDIR, else /tmp; "
                    "keep it short: gpg-agent's socket lives there)"},
    MA_CONFIG_END,
};

typedef enum pgp_mode { PGP_ENCRYPT = 0, PGP_SIGN, PGP_SIGN_ENCRYPT, PGP_DECRYPT } pgp_mode;
/* <dataprocesspgpencrypt queuesecurity>: "encrypted" is in the corpus; docs/decisions/023-pgp.md */
static const ma_enum queue_security[] = {
    {"encrypted", PGP_ENCRYPT, 0},
    {"signed", PGP_SIGN, 0},
    {"signedAndEncrypted", PGP_SIGN_ENCRYPT, 0},
    {"encryptedAndSigned", PGP_SIGN_ENCRYPT, MA_ENUM_OLD},
    {NULL, 0, 0},
};

typedef struct pgp_key {
    char *alias; /* the certificate component id the step names (owned) */
    char *name;  /* the component's name, or NULL (owned) */
    char **fprs; /* fingerprints of the keys imported for it (owned) */
    size_t n_fpr;
} pgp_key;

typedef struct pgp_state {
    pgp_mode mode;
    int armor;
    int clear;   /* a clear-text signature (sign only) */
    char *label; /* owned */
    char *home;  /* the private GnuPG home (owned; removed in destroy) */
    const ma_deploy *dep;
    pgp_key main; /* encrypt: the recipient; decrypt: the private key */
    pgp_key sign; /* the signer (sign modes), alias NULL when none */
} pgp_state;

/* ---- gpgme set-up ---------------------------------------------------------------------------- */

/* gpgme is loaded when the first PGP step is deployed (lazy_gpgme.h); gpgme_check_version, which
 * must come before any other call, also makes the process ignore SIGPIPE (a gpg that exits early). */
static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static int gpgme_ok;
static ma_error gpgme_err;

static void gpgme_init(void)
{
    if (ma_gpgme_load(&gpgme_err) < 0) return;
    if (!gpgme_check_version(NULL) || gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != GPG_ERR_NO_ERROR) {
        ma_error_set(&gpgme_err, MA_ERR_UNSUPPORTED,
                     "GnuPG (gpg 2) is not installed or gpgme cannot run it (apt-get install -y gnupg)");
        return;
    }
    gpgme_ok = 1;
}

typedef struct pass_ctx {
    const pgp_state *st;
    const pgp_key *key;
    int asked;
    int missing; /* no passphrase is configured */
} pass_ctx;

/* The passphrase of key from the settings, malloc'ed (wipe and free), or NULL when none is set. */
static char *passphrase_of(const pgp_state *st, const pgp_key *key)
{
    const char *who[2] = {key->alias, key->name};
    for (int i = 0; i < 2; i++) {
        if (!who[i]) continue;
        char k[600];
        snprintf(k, sizeof k, "pgp.%s.passphrase", who[i]);
        const char *v = ma_deploy_setting(st->dep, k);
        if (v) return strdup(v);
        snprintf(k, sizeof k, "pgp.%s.passphrase_file", who[i]);
        if ((v = ma_deploy_setting(st->dep, k)) != NULL) {
            ma_error e;
            size_t n;
            char *p = ma_read_file(v, MAX_PASSPHRASE, &n, &e);
            if (!p) return NULL;
            if (n && p[n - 1] == '\n') p[--n] = '\0';
            if (n && p[n - 1] == '\r') p[--n] = '\0';
            return p;
        }
    }
    return NULL;
}

static gpgme_error_t pass_cb(void *hook, const char *uid_hint, const char *info, int prev_was_bad, int fd)
{
    pass_ctx *pc = hook;
    if (prev_was_bad || pc->asked++) return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
    char *p = passphrase_of(pc->st, pc->key);
    if (!p) {
        pc->missing = 1;
        return gpgme_error(GPG_ERR_NO_PASSPHRASE);
    }
    size_t n = strlen(p);
    int bad = gpgme_io_writen(fd, p, n) != 0 || gpgme_io_writen(fd, "\n", 1) != 0;
    ma_wipe(p, n);
    free(p);
    return bad ? gpgme_error(GPG_ERR_CANCELED) : 0;
}

/* A context working in st->home, without a pinentry: passphrases come from pass_cb. */
static gpgme_ctx_t new_ctx(const pgp_state *st, pass_ctx *pc, char *why, size_t whyn)
{
    gpgme_ctx_t ctx = NULL;
    gpgme_error_t e = gpgme_new(&ctx);
    if (!e) e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
    if (!e) e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, st->home);
    if (!e) e = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    if (e) {
        snprintf(why, whyn, "%s: GnuPG cannot be used: %s", st->label, gpgme_strerror(e));
        if (ctx) gpgme_release(ctx);
        return NULL;
    }
    gpgme_set_offline(ctx, 1);
    gpgme_set_armor(ctx, st->armor);
    if (pc) gpgme_set_passphrase_cb(ctx, pass_cb, pc);
    return ctx;
}

/* ---- the private GnuPG home ------------------------------------------------------------------ */

/* Stops the home's gpg-agent (gpgconf --kill) and removes the home. */
static void home_remove(const char *home)
{
    if (!home) return;
    char *argv[] = {"gpgconf", "--homedir", (char *)home, "--kill", "all", NULL};
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) == 0) {
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        if (posix_spawnp(&pid, "gpgconf", &fa, NULL, argv, environ) == 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        posix_spawn_file_actions_destroy(&fa);
    }
    ma_remove_tree(home);
}

static int write_conf(const char *home, const char *name, const char *text, ma_error *err)
{
    char *path = ma_asprintf("%s/%s", home, name);
    if (!path) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    int rc = ma_write_file(path, text, strlen(text), err);
    free(path);
    return rc;
}

/* Makes the step's GnuPG home: a new 0700 folder under pgp.home_parent, $TMPDIR or /tmp, with a
 * configuration that keeps gpg off the network and gpg-agent from caching passphrases. */
static int home_make(pgp_state *st, ma_error *err)
{
    const char *parent = ma_deploy_setting(st->dep, "pgp.home_parent");
    if (!parent) {
        const char *t = getenv("TMPDIR");
        parent = t && *t && strlen(t) < 60 ? t : "/tmp";
    }
    char *tpl = ma_asprintf("%s/ma-pgp-XXXXXX", parent);
    if (!tpl) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    if (!mkdtemp(tpl)) {
        int e = errno;
        ma_error_set(err, MA_ERR_IO, "%s: cannot make a GnuPG home under %s: %s", st->label, parent, strerror(e));
        free(tpl);
        return -1;
    }
    st->home = tpl;
    if (write_conf(tpl, "gpg.conf",
                   "no-greeting\nno-auto-key-retrieve\nno-auto-key-locate\nno-auto-key-import\ndisable-dirmngr\n"
                   "trust-model always\n",
                   err) < 0 ||
        write_conf(tpl, "gpg-agent.conf",
                   "allow-loopback-pinentry\ndefault-cache-ttl 0\nmax-cache-ttl 0\nno-allow-external-cache\n"
                   "ignore-cache-for-signing\n",
                   err) < 0)
        return -1;
    return 0;
}

/* ---- keys ------------------------------------------------------------------------------------ */

static const unsigned char *b64_table(void)
{
    static unsigned char t[256];
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!t['B'])
        for (int i = 0; i < 64; i++) t[(unsigned char)a[i]] = (unsigned char)(i + 1);
    return t;
}

/* Base64 text (whitespace skipped) decoded into a malloc'ed buffer; NULL when it is not base64. */
static unsigned char *b64_decode(const char *s, size_t *len)
{
    const unsigned char *t = b64_table();
    size_t n = strlen(s);
    unsigned char *o = malloc(n / 4 * 3 + 4);
    if (!o) return NULL;
    unsigned v = 0;
    int bits = 0;
    size_t j = 0, seen = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') continue;
        if (*p == '=') break;
        if (!t[*p]) {
            free(o);
            return NULL;
        }
        v = v << 6 | (unsigned)(t[*p] - 1);
        bits += 6;
        seen++;
        if (bits >= 8) {
            bits -= 8;
            o[j++] = (unsigned char)(v >> bits);
            v &= (1u << bits) - 1;
        }
    }
    if (!seen) {
        free(o);
        return NULL;
    }
    *len = j;
    return o;
}

/* The key material of a certificate component: an armored block found in its text, else its text
 * read as base64 (a binary key). malloc'ed; NULL with why when it holds none. */
static char *component_key(const ma_component *c, size_t *len)
{
    const ma_xml_node *obj = ma_component_object(c);
    if (!obj) return NULL;
    xmlChar *txt = xmlNodeGetContent((const xmlNode *)obj);
    if (!txt) return NULL;
    char *out = NULL;
    const char *b = strstr((const char *)txt, "-----BEGIN PGP");
    if (b) {
        const char *e = b, *last = NULL;
        while ((e = strstr(e, "-----END PGP")) != NULL) last = e++;
        if (last) {
            const char *stop = strstr(last + 5, "-----");
            if (stop) {
                stop += 5;
                *len = (size_t)(stop - b);
                out = ma_strndup(b, *len);
            }
        }
    } else {
        out = (char *)b64_decode((const char *)txt, len);
    }
    xmlFree(txt);
    return out;
}

static void key_free(pgp_key *k)
{
    free(k->alias);
    free(k->name);
    for (size_t i = 0; i < k->n_fpr; i++) free(k->fprs[i]);
    free(k->fprs);
    memset(k, 0, sizeof *k);
}

/* Imports the key of certificate alias into the home: from pgp.<id or name>.key_file, else from
 * the certificate component. Records the fingerprints imported. */
static int key_import(pgp_state *st, pgp_key *k, const char *alias, ma_error *err)
{
    if (!(k->alias = strdup(alias))) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const ma_component *c = ma_deploy_find(st->dep, alias);
    if (c && ma_component_name(c) && *ma_component_name(c) && !(k->name = strdup(ma_component_name(c))))
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    const char *file = NULL;
    char key[600];
    snprintf(key, sizeof key, "pgp.%s.key_file", alias);
    file = ma_deploy_setting(st->dep, key);
    if (!file && k->name) {
        snprintf(key, sizeof key, "pgp.%s.key_file", k->name);
        file = ma_deploy_setting(st->dep, key);
    }
    char *data = NULL;
    size_t len = 0;
    const char *from;
    char fromb[700];
    if (file) {
        if (!(data = ma_read_file(file, MAX_KEY_FILE, &len, err))) {
            ma_error_prefix(err, "%s: %s", st->label, key);
            return -1;
        }
        snprintf(fromb, sizeof fromb, "key file %s (%s)", file, key);
        from = fromb;
    } else if (!c) {
        return ma_error_set(err, MA_ERR_REF,
                            "%s: certificate component %s is not in the deployment (or set pgp.%s.key_file)", st->label,
                            alias, alias);
    } else if (strcmp(ma_component_type(c), "certificate") != 0) {
        return ma_error_set(err, MA_ERR_CONFIG, "%s: component %s is a %s, not a certificate", st->label, alias,
                            ma_component_type(c));
    } else {
        if (!(data = component_key(c, &len)))
            return ma_error_set(err, MA_ERR_CONFIG,
                                "%s: certificate %s holds no OpenPGP key (an armored key block or base64) "
                                "(or set pgp.%s.key_file)",
                                st->label, alias, alias);
        snprintf(fromb, sizeof fromb, "certificate %s", alias);
        from = fromb;
    }
    char why[MA_ERROR_MAX];
    gpgme_ctx_t ctx = new_ctx(st, NULL, why, sizeof why);
    if (!ctx) {
        free(data);
        return ma_error_set(err, MA_ERR_RUNTIME, "%s", why);
    }
    gpgme_data_t kd = NULL;
    int rc = 0;
    gpgme_error_t e = gpgme_data_new_from_mem(&kd, data, len, 0);
    if (!e) e = gpgme_op_import(ctx, kd);
    gpgme_import_result_t r = e ? NULL : gpgme_op_import_result(ctx);
    if (e || !r) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: the key of %s cannot be imported: %s", st->label, from,
                          e ? gpgme_strerror(e) : "no result");
        goto out;
    }
    for (gpgme_import_status_t s = r->imports; s; s = s->next) {
        if (s->result || !s->fpr) continue;
        int dup = 0;
        for (size_t i = 0; i < k->n_fpr; i++) dup |= strcmp(k->fprs[i], s->fpr) == 0;
        if (dup) continue;
        char **nf = realloc(k->fprs, (k->n_fpr + 1) * sizeof *nf);
        if (!nf || !(nf[k->n_fpr] = strdup(s->fpr))) {
            if (nf) k->fprs = nf;
            rc = ma_error_set(err, MA_ERR_NOMEM, "out of memory");
            goto out;
        }
        k->fprs = nf;
        k->n_fpr++;
    }
    if (!k->n_fpr)
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: %s holds no OpenPGP key that GnuPG can import", st->label, from);
out:
    if (kd) gpgme_data_release(kd);
    gpgme_release(ctx);
    if (data) ma_wipe(data, len);
    free(data);
    return rc;
}

/* The keys of k that can do what is asked (encrypt, or sign/decrypt with a secret key), as a
 * NULL-terminated array the caller releases with keys_release. */
static gpgme_key_t *keys_get(gpgme_ctx_t ctx, const pgp_key *k, int secret, int want_encrypt)
{
    gpgme_key_t *ks = calloc(k->n_fpr + 1, sizeof *ks);
    if (!ks) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < k->n_fpr; i++) {
        gpgme_key_t key = NULL;
        if (gpgme_get_key(ctx, k->fprs[i], &key, secret) || !key) continue;
        int ok = want_encrypt ? key->can_encrypt : secret ? (key->secret && key->can_sign) : 1;
        if (ok && !key->revoked && !key->expired && !key->disabled && !key->invalid) ks[n++] = key;
        else gpgme_key_unref(key);
    }
    return ks;
}

static void keys_release(gpgme_key_t *ks)
{
    if (!ks) return;
    for (size_t i = 0; ks[i]; i++) gpgme_key_unref(ks[i]);
    free(ks);
}

/* ---- compile ----------------------------------------------------------------------------------- */

static void pgp_destroy(void *state)
{
    pgp_state *st = state;
    if (!st) return;
    home_remove(st->home);
    free(st->home);
    free(st->label);
    key_free(&st->main);
    key_free(&st->sign);
    free(st);
}

static int attr_true(const xmlNode *n, const char *name)
{
    char *v = ma_xml_attr(n, name);
    int t = v && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
    free(v);
    return t;
}

/* The first non-empty attribute of n among names, malloc'ed, or NULL. */
static char *attr_first(const xmlNode *n, const char *const *names)
{
    for (; *names; names++) {
        char *v = ma_xml_attr(n, *names);
        if (v && *v) return v;
        free(v);
    }
    return NULL;
}

static int pgp_compile_mode(ma_shape *shape, const xmlNode *step, const char *label, void **state, int decrypt,
                            ma_error *err)
{
    pthread_once(&gpgme_once, gpgme_init);
    if (!gpgme_ok) return ma_error_set(err, MA_ERR_UNSUPPORTED, "%s: %s", label, gpgme_err.msg);
    const char *elname = decrypt ? "dataprocesspgpdecrypt" : "dataprocesspgpencrypt";
    const xmlNode *cfg = ma_xml_child(step, elname);
    if (!cfg) return ma_error_set(err, MA_ERR_CONFIG, "%s: the step has no <%s>", label, elname);
    pgp_state *st = calloc(1, sizeof *st);
    if (!st || !(st->label = strdup(label))) {
        free(st);
        return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    }
    st->dep = ma_shape_deploy(shape);
    shape->calls_out = 1; /* every document is a gpg run: the shape may wait */
    int rc = 0;
    char *alias = NULL, *salias = NULL;
    static const char *const enc_alias[] = {"encryptalias", "alias", NULL};
    static const char *const dec_alias[] = {"decryptalias", "alias", NULL};
    static const char *const sign_alias[] = {"signalias", "signingalias", NULL};
    alias = attr_first(cfg, decrypt ? dec_alias : enc_alias);
    st->armor = attr_true(cfg, "armor") || attr_true(cfg, "armored");
    if (decrypt) {
        st->mode = PGP_DECRYPT;
    } else {
        salias = attr_first(cfg, sign_alias);
        int mode = PGP_ENCRYPT;
        if (ma_xml_enum(cfg, "queuesecurity", queue_security, PGP_ENCRYPT, MA_ENUM_NOCASE, &mode, err) < 0) {
            ma_error_prefix(err, "%s", label);
            rc = -1;
            goto out;
        }
        st->mode = (pgp_mode)mode;
        st->clear = st->mode == PGP_SIGN && attr_true(cfg, "clearSign");
        if (st->mode != PGP_ENCRYPT && !salias) {
            rc =
                ma_error_set(err, MA_ERR_CONFIG, "%s: queuesecurity '%s' signs, but no signalias names the signing key",
                             label, ma_enum_name(queue_security, st->mode));
            goto out;
        }
    }
    if (st->mode != PGP_SIGN && !alias) {
        rc = ma_error_set(err, MA_ERR_CONFIG, "%s: no %s names the certificate", label,
                          decrypt ? "decryptalias" : "encryptalias");
        goto out;
    }
    if ((rc = home_make(st, err)) < 0) goto out;
    if (st->mode != PGP_SIGN && (rc = key_import(st, &st->main, alias, err)) < 0) goto out;
    if (st->mode != PGP_ENCRYPT && !decrypt && (rc = key_import(st, &st->sign, salias, err)) < 0) goto out;
    /* the keys must be able to do the work: checked once here, not per document */
    char why[MA_ERROR_MAX];
    gpgme_ctx_t ctx = new_ctx(st, NULL, why, sizeof why);
    if (!ctx) {
        rc = ma_error_set(err, MA_ERR_RUNTIME, "%s", why);
        goto out;
    }
    if (st->mode == PGP_ENCRYPT || st->mode == PGP_SIGN_ENCRYPT) {
        gpgme_key_t *ks = keys_get(ctx, &st->main, 0, 1);
        if (ks && !ks[0])
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: certificate %s has no valid key that can encrypt", label, alias);
        keys_release(ks);
    }
    if (rc == 0 && (st->mode == PGP_SIGN || st->mode == PGP_SIGN_ENCRYPT)) {
        gpgme_key_t *ks = keys_get(ctx, &st->sign, 1, 0);
        if (ks && !ks[0])
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: certificate %s has no private key that can sign", label, salias);
        keys_release(ks);
    }
    if (rc == 0 && st->mode == PGP_DECRYPT) {
        int any = 0;
        for (size_t i = 0; i < st->main.n_fpr && !any; i++) {
            gpgme_key_t key = NULL;
            if (!gpgme_get_key(ctx, st->main.fprs[i], &key, 1) && key) any = 1;
            gpgme_key_unref(key);
        }
        if (!any)
            rc = ma_error_set(err, MA_ERR_CONFIG, "%s: certificate %s holds no private key (PGP Decrypt needs one)",
                              label, alias);
    }
    gpgme_release(ctx);
out:
    free(alias);
    free(salias);
    if (rc < 0) pgp_destroy(st);
    else *state = st;
    return rc;
}

static int pgp_compile_encrypt(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    return pgp_compile_mode(shape, step, label, state, 0, err);
}

static int pgp_compile_decrypt(ma_shape *shape, const xmlNode *step, const char *label, void **state, ma_error *err)
{
    return pgp_compile_mode(shape, step, label, state, 1, err);
}

/* ---- run --------------------------------------------------------------------------------------- */

/* Why decryption failed, in the words a user can act on. */
static void decrypt_why(const pgp_state *st, gpgme_ctx_t ctx, gpgme_error_t e, const pass_ctx *pc, char *why,
                        size_t whyn)
{
    const char *a = st->main.alias;
    switch (gpgme_err_code(e)) {
    case GPG_ERR_NO_SECKEY: {
        char ids[300] = "";
        gpgme_decrypt_result_t r = gpgme_op_decrypt_result(ctx);
        for (gpgme_recipient_t rc = r ? r->recipients : NULL; rc; rc = rc->next)
            if (rc->keyid && strlen(ids) + strlen(rc->keyid) + 3 < sizeof ids) {
                if (*ids) strcat(ids, ", ");
                strcat(ids, rc->keyid);
            }
        snprintf(why, whyn, "%s: the document is encrypted for key %s, and certificate %s holds no private key for it",
                 st->label, *ids ? ids : "(unknown)", a);
        return;
    }
    case GPG_ERR_BAD_PASSPHRASE:
        snprintf(why, whyn, "%s: wrong passphrase for the private key of certificate %s (pgp.%s.passphrase)", st->label,
                 a, a);
        return;
    case GPG_ERR_NO_PASSPHRASE:
    case GPG_ERR_CANCELED:
        if (pc->missing) {
            snprintf(why, whyn, "%s: the private key of certificate %s needs a passphrase: set pgp.%s.passphrase",
                     st->label, a, a);
            return;
        }
        break;
    case GPG_ERR_NO_DATA:
        snprintf(why, whyn, "%s: the document is not an OpenPGP encrypted message", st->label);
        return;
    default: break;
    }
    snprintf(why, whyn, "%s: decryption failed: %s", st->label, gpgme_strerror(e));
}

/* Encrypts, signs or decrypts one document: the result document, or NULL with why. */
static ma_doc *pgp_one(const pgp_state *st, ma_doc *doc, char *why, size_t whyn)
{
    pass_ctx pc = {.st = st, .key = st->mode == PGP_DECRYPT ? &st->main : &st->sign};
    gpgme_ctx_t ctx = new_ctx(st, &pc, why, whyn);
    if (!ctx) return NULL;
    size_t len;
    const char *data = ma_doc_data(doc, &len);
    gpgme_data_t in = NULL, out = NULL;
    gpgme_key_t *rcpt = NULL;
    ma_doc *res = NULL;
    gpgme_error_t e = gpgme_data_new_from_mem(&in, data, len, 0);
    if (!e) e = gpgme_data_new(&out);
    if (e) {
        snprintf(why, whyn, "%s: %s", st->label, gpgme_strerror(e));
        goto out;
    }
    if (st->mode == PGP_SIGN || st->mode == PGP_SIGN_ENCRYPT) {
        gpgme_key_t *sk = keys_get(ctx, &st->sign, 1, 0);
        for (size_t i = 0; sk && sk[i]; i++) gpgme_signers_add(ctx, sk[i]);
        int none = !sk || !sk[0];
        keys_release(sk);
        if (none) {
            snprintf(why, whyn, "%s: certificate %s has no private key that can sign", st->label, st->sign.alias);
            goto out;
        }
    }
    if (st->mode == PGP_ENCRYPT || st->mode == PGP_SIGN_ENCRYPT) {
        rcpt = keys_get(ctx, &st->main, 0, 1);
        if (!rcpt || !rcpt[0]) {
            snprintf(why, whyn, "%s: certificate %s has no valid key that can encrypt", st->label, st->main.alias);
            goto out;
        }
    }
    switch (st->mode) {
    case PGP_ENCRYPT: e = gpgme_op_encrypt(ctx, rcpt, GPGME_ENCRYPT_ALWAYS_TRUST, in, out); break;
    case PGP_SIGN_ENCRYPT: e = gpgme_op_encrypt_sign(ctx, rcpt, GPGME_ENCRYPT_ALWAYS_TRUST, in, out); break;
    case PGP_SIGN: e = gpgme_op_sign(ctx, in, out, st->clear ? GPGME_SIG_MODE_CLEAR : GPGME_SIG_MODE_NORMAL); break;
    case PGP_DECRYPT: e = gpgme_op_decrypt_verify(ctx, in, out); break;
    }
    if (e) {
        if (st->mode == PGP_DECRYPT) decrypt_why(st, ctx, e, &pc, why, whyn);
        else if (gpgme_err_code(e) == GPG_ERR_BAD_PASSPHRASE)
            snprintf(why, whyn, "%s: wrong passphrase for the private key of certificate %s (pgp.%s.passphrase)",
                     st->label, st->sign.alias, st->sign.alias);
        else if (pc.missing)
            snprintf(why, whyn, "%s: the private key of certificate %s needs a passphrase: set pgp.%s.passphrase",
                     st->label, st->sign.alias, st->sign.alias);
        else
            snprintf(why, whyn, "%s: %s failed: %s", st->label, st->mode == PGP_SIGN ? "signing" : "encryption",
                     gpgme_strerror(e));
        goto out;
    }
    if (st->mode == PGP_DECRYPT) {
        gpgme_verify_result_t v = gpgme_op_verify_result(ctx);
        for (gpgme_signature_t s = v ? v->signatures : NULL; s; s = s->next)
            if (gpgme_err_code(s->status) == GPG_ERR_BAD_SIGNATURE) {
                snprintf(why, whyn, "%s: the document's signature (key %s) is bad: the data was changed", st->label,
                         s->fpr ? s->fpr : "?");
                goto out;
            }
    }
    size_t olen = 0;
    char *o = gpgme_data_release_and_get_mem(out, &olen);
    out = NULL;
    if (!o && olen) {
        snprintf(why, whyn, "%s: out of memory", st->label);
        goto out;
    }
    if (olen > MA_DOC_MAX_SIZE)
        snprintf(why, whyn, "%s: the result is larger than %zu bytes", st->label, MA_DOC_MAX_SIZE);
    else if (!(res = ma_doc_derive(doc, o ? o : "", olen))) snprintf(why, whyn, "%s: out of memory", st->label);
    if (o) {
        if (st->mode == PGP_DECRYPT) ma_wipe(o, olen);
        gpgme_free(o);
    }
out:
    keys_release(rcpt);
    if (in) gpgme_data_release(in);
    if (out) gpgme_data_release(out);
    gpgme_release(ctx);
    return res;
}

static int pgp_run(ma_exec *ex, ma_shape *shape, void *state, const ma_batch *in, ma_batch *next, ma_outputs *out,
                   ma_error *err)
{
    const pgp_state *st = state;
    char why[MA_ERROR_MAX];
    for (size_t i = 0; i < in->len; i++) {
        if (ma_exec_must_stop()) return ma_error_set(err, MA_ERR_RUNTIME, "%s: the execution was stopped", st->label);
        why[0] = '\0';
        ma_doc *res = pgp_one(st, in->docs[i], why, sizeof why);
        if (res) {
            if (ma_batch_push(next, res) < 0) return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        } else if (ma_outputs_fail(out, ma_doc_ref(in->docs[i]), "%s", why) < 0) {
            return ma_error_set(err, MA_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

const ma_dp_step_kind ma_dp_pgp_encrypt = {
    .processtype = 2,
    .name = "PGP Encrypt",
    .compile = pgp_compile_encrypt,
    .run = pgp_run,
    .destroy = pgp_destroy,
    .settings_prefix = "pgp.",
    .config_map = ma_pgp_config_map,
};

const ma_dp_step_kind ma_dp_pgp_decrypt = {
    .processtype = 3,
    .name = "PGP Decrypt",
    .compile = pgp_compile_decrypt,
    .run = pgp_run,
    .destroy = pgp_destroy,
    .settings_prefix = "pgp.",
    .config_map = ma_pgp_config_map,
};
