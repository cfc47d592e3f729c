/* server_auth.c - authentication of `miniatom serve` (docs/server.md "Authentication"): tokens are
 * stored only as salted PBKDF2-SHA256 hashes, compared in constant time, every check costing the
 * dearest user's iterations (an unknown user too); a verified token is remembered as an HMAC under a
 * key made at start, never in clear. The hashing runs on server_kdf.c's threads. Client certificates are verified by GnuTLS against server.tls.clientca.
 * GnuTLS is loaded when first needed (lazy_gnutls.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lazy_gnutls.h"
#include "server.h"
#include "util.h"

#define HASH_SCHEME "pbkdf2-sha256"

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static int unhex(const char *s, size_t slen, unsigned char *out, size_t max, size_t *n)
{
    if (slen % 2 || slen / 2 > max) return -1;
    for (size_t i = 0; i < slen / 2; i++) {
        int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (unsigned char)(h << 4 | l);
    }
    *n = slen / 2;
    return 0;
}

static void tohex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int ma_server_parse_hash(const char *v, ma_hashed_user *u)
{
    size_t sl = strlen(HASH_SCHEME);
    if (strncmp(v, HASH_SCHEME, sl) != 0 || v[sl] != '$') return -1;
    const char *it = v + sl + 1, *d1 = strchr(it, '$');
    if (!d1) return -1;
    const char *d2 = strchr(d1 + 1, '$');
    if (!d2 || strchr(d2 + 1, '$') || d1 == it || (size_t)(d1 - it) > 8 ||
        strspn(it, "0123456789") != (size_t)(d1 - it))
        return -1;
    unsigned long iter = strtoul(it, NULL, 10);
    if (iter < 1 || iter > 10000000) return -1;
    u->iterations = (unsigned)iter;
    size_t hl;
    if (unhex(d1 + 1, (size_t)(d2 - d1 - 1), u->salt, sizeof u->salt, &u->salt_len) < 0 || u->salt_len < 8) return -1;
    if (unhex(d2 + 1, strlen(d2 + 1), u->hash, sizeof u->hash, &hl) < 0 || hl != MA_SERVER_HASH_LEN) return -1;
    return 0;
}

static int pbkdf2(const char *token, size_t len, const unsigned char *salt, size_t salt_len, unsigned iter,
                  unsigned char out[MA_SERVER_HASH_LEN])
{
    gnutls_datum_t key = {(unsigned char *)(uintptr_t)token, (unsigned)len};
    gnutls_datum_t s = {(unsigned char *)(uintptr_t)salt, (unsigned)salt_len};
    return gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iter, out, MA_SERVER_HASH_LEN) < 0 ? -1 : 0;
}

char *ma_server_hash_token(const char *token, size_t len, unsigned iterations, ma_error *err)
{
    unsigned char salt[16], h[MA_SERVER_HASH_LEN];
    if (ma_gnutls_load(err) < 0) return NULL;
    if (gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt) < 0) {
        ma_error_set(err, MA_ERR_GENERIC, "no random numbers");
        return NULL;
    }
    if (pbkdf2(token, len, salt, sizeof salt, iterations, h) < 0) {
        ma_error_set(err, MA_ERR_GENERIC, "PBKDF2 failed");
        return NULL;
    }
    char sx[2 * sizeof salt + 1], hx[2 * MA_SERVER_HASH_LEN + 1];
    tohex(salt, sizeof salt, sx);
    tohex(h, MA_SERVER_HASH_LEN, hx);
    ma_wipe(h, sizeof h);
    char *out = ma_asprintf(HASH_SCHEME "$%u$%s$%s", iterations, sx, hx);
    if (!out) ma_error_set(err, MA_ERR_NOMEM, "out of memory");
    return out;
}

int ma_server_auth_init(ma_server *srv, ma_error *err)
{
    if (ma_gnutls_load(err) < 0) return -1;
    if (gnutls_rnd(GNUTLS_RND_KEY, srv->cache_key, sizeof srv->cache_key) < 0)
        return ma_error_set(err, MA_ERR_GENERIC, "no random numbers for the authentication cache");
    return 0;
}

/* The key under which a verified user and token of listener li are remembered. */
static void remember_mac(ma_server *srv, int li, const char *user, const char *pass,
                         unsigned char mac[MA_SERVER_HASH_LEN])
{
    size_t ul = strlen(user), pl = strlen(pass);
    char *text = malloc(ul + pl + 24);
    if (!text) { /* nothing matches a MAC of nothing under a random key */
        memset(mac, 0, MA_SERVER_HASH_LEN);
        return;
    }
    int tl = snprintf(text, ul + pl + 24, "%d%c%s%c%s", li, 0, user, 0, pass);
    gnutls_hmac_fast(GNUTLS_MAC_SHA256, srv->cache_key, sizeof srv->cache_key, text, (size_t)tl, mac);
    ma_wipe(text, (size_t)tl);
    free(text);
}

int ma_server_basic_remembered(ma_server *srv, int li, const char *user, const char *pass)
{
    unsigned char mac[MA_SERVER_HASH_LEN];
    if (ma_gnutls_load(NULL) < 0) return 0; /* loaded by ma_server_auth_init */
    remember_mac(srv, li, user, pass, mac);
    int hit = 0;
    pthread_mutex_lock(&srv->auth_mu);
    for (size_t i = 0; i < srv->cache_n; i++) hit |= ma_ct_equal(srv->cache[i], mac, MA_SERVER_HASH_LEN);
    pthread_mutex_unlock(&srv->auth_mu);
    ma_wipe(mac, sizeof mac);
    return hit;
}

int ma_server_basic_verify(ma_server *srv, int li, const ma_auth_cfg *a, const char *user, const char *pass)
{
    if (ma_gnutls_load(NULL) < 0 || !a->n_users) return 0;
    const ma_hashed_user *u = NULL;
    unsigned most = 0;
    for (size_t i = 0; i < a->n_users; i++) {
        if (!u && strcmp(a->users[i].name, user) == 0) u = &a->users[i];
        if (a->users[i].iterations > most) most = a->users[i].iterations;
    }
    /* every check costs the dearest user's iterations: an unknown user hashes against the first
     * user's salt with that count, a known one with fewer iterations makes up the rest */
    const ma_hashed_user *check = u ? u : &a->users[0];
    unsigned iter = u ? u->iterations : most;
    unsigned char h[MA_SERVER_HASH_LEN], pad[MA_SERVER_HASH_LEN];
    size_t pl = strlen(pass);
    if (pbkdf2(pass, pl, check->salt, check->salt_len, iter, h) < 0) return 0;
    if (most > iter) pbkdf2(pass, pl, check->salt, check->salt_len, most - iter, pad);
    int ok = ma_ct_equal(h, check->hash, MA_SERVER_HASH_LEN) && u != NULL;
    ma_wipe(h, sizeof h);
    ma_wipe(pad, sizeof pad);
    if (ok) {
        unsigned char mac[MA_SERVER_HASH_LEN];
        remember_mac(srv, li, user, pass, mac);
        pthread_mutex_lock(&srv->auth_mu);
        memcpy(srv->cache[srv->cache_next], mac, MA_SERVER_HASH_LEN);
        srv->cache_next = (srv->cache_next + 1) % MA_SERVER_AUTH_CACHE;
        if (srv->cache_n < MA_SERVER_AUTH_CACHE) srv->cache_n++;
        pthread_mutex_unlock(&srv->auth_mu);
        ma_wipe(mac, sizeof mac);
    }
    return ok;
}

char *ma_server_peer_subject(void *tls_session)
{
    gnutls_session_t s = tls_session;
    unsigned status = 1, n = 0;
    if (ma_gnutls_load(NULL) < 0) return NULL; /* loaded by ma_server_auth_init (and libmicrohttpd) */
    if (!s || gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0) return NULL;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    if (!certs || !n) return NULL;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) return NULL;
    char *subject = NULL;
    gnutls_datum_t dn = {NULL, 0};
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 && gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
        subject = ma_strndup((const char *)dn.data, dn.size);
        gnutls_free(dn.data);
    }
    gnutls_x509_crt_deinit(crt);
    return subject;
}
