/* httpc.h - the HTTP client the connectors share (libcurl): one pool of reusable easy handles per
 * connection (keep-alive, HTTP/2 where the server offers it), timeouts, an optional proxy, TLS
 * with CA/client certificates, and retries with exponential backoff and jitter on 429, 5xx and
 * connection failures. Thread-safe: a pool may be used by several threads at once. Nothing here
 * logs headers or bodies, so credentials passed in headers never reach a log. */
#ifndef MA_HTTPC_H
#define MA_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "miniatom/config.h"
#include "miniatom/error.h"

/* In every option, 0 means the documented default; retries < 0 means no retry and
 * backoff_ms < 0 retries without waiting. */
typedef struct ma_httpc_opts {
    long connect_timeout_ms; /* default 10000 */
    long timeout_ms;         /* whole request; default 60000 */
    const char *proxy;       /* e.g. "http://proxy:3128"; NULL = none (borrowed, copied by new) */
    const char *ca_file;     /* PEM bundle to verify the server with; NULL = system default */
    const char *client_cert; /* PEM client certificate (mTLS); NULL = none */
    const char *client_key;  /* PEM key for client_cert */
    int insecure;            /* 1 = do not verify the server (tests only; documented as such) */
    int retries;             /* retries after the first attempt on 429/5xx/connection failure; default 3 */
    long backoff_ms;         /* first wait; doubles each retry, with jitter; default 200. Retry-After is honoured */
    int follow_redirects;    /* default 0 */
    size_t max_response;     /* bytes; default 64 MiB; larger -> error */
} ma_httpc_opts;

/* The connection fields every connector on this client reads the same way (Boomi's HTTP client
 * connection: whole milliseconds), read with ma_connector_config into an ma_httpc_fields by the
 * config map entries MA_HTTPC_CONFIG_ENTRIES(WHAT) (WHAT names the server in the descriptions). */
typedef struct ma_httpc_fields {
    uint64_t connect_timeout_ms, read_timeout_ms, retries;
    int insecure;
} ma_httpc_fields;
/* clang-format off */
#define MA_HTTPC_CONFIG_ENTRIES(WHAT)                                                                     \
    {.key = "connectTimeout", .kind = MA_CONFIG_UINT, .def = "10000", .min = 0, .max = 86400000,                  \
     .at = MA_CONFIG_AT(ma_httpc_fields, connect_timeout_ms), .description = "milliseconds to wait for the connection (0: 10000)"}, \
    {.key = "readTimeout", .kind = MA_CONFIG_UINT, .def = "60000", .min = 0, .max = 86400000,                     \
     .at = MA_CONFIG_AT(ma_httpc_fields, read_timeout_ms),                                                                 \
     .description = "milliseconds one request may take, its response included (0: 60000)"},                    \
    {.key = "retries", .kind = MA_CONFIG_UINT, .def = "0", .min = 0, .max = 10, .at = MA_CONFIG_AT(ma_httpc_fields, retries), \
     .description = "retries after a refused connection, a 429 or a 5xx, with backoff (0: none, as Boomi's HTTP client)"}, \
    {.key = "caFile", .kind = MA_CONFIG_FILE,                                                                   \
     .description = "PEM CA certificates to verify " WHAT " with (default: the system's)"},                     \
    {.key = "proxy", .kind = MA_CONFIG_STRING, .description = "the proxy to connect through, e.g. http://proxy:3128"}, \
    {.key = "insecure", .kind = MA_CONFIG_BOOL, .def = "false", .at = MA_CONFIG_AT(ma_httpc_fields, insecure),             \
     .description = "do not verify " WHAT "'s certificate (for tests only)"}
/* clang-format on */

typedef struct ma_httpc ma_httpc; /* a pool for one connection */

typedef struct ma_httpc_header {
    const char *name, *value; /* borrowed */
} ma_httpc_header;

typedef struct ma_httpc_response {
    long status; /* HTTP status, 0 when no response */
    char *body;  /* malloc'ed, NUL-terminated (caller frees with ma_httpc_response_free) */
    size_t body_len;
    char **headers; /* malloc'ed "Name: value" lines of the final response */
    size_t n_headers;
    int attempts; /* how many requests were sent */
} ma_httpc_response;

/* New pool (caller frees with ma_httpc_free). NULL with err. libcurl is loaded, and the pool made
 * ready, by its first request: a request to a pool on a machine without libcurl fails then. */
ma_httpc *ma_httpc_new(const ma_httpc_opts *opts, ma_error *err);
void ma_httpc_free(ma_httpc *c);

/* Sends one request and waits for the response, retrying as the options say. method is "GET",
 * "POST", ...; body may be NULL. Returns 0 when a response arrived (any status: the caller
 * decides what a 4xx means) and -1 with err when none did after the retries (the message names
 * the method, the URL without its query string, and curl's reason). */
int ma_httpc_request(ma_httpc *c, const char *method, const char *url, const ma_httpc_header *headers, size_t n_headers,
                     const void *body, size_t body_len, ma_httpc_response *res, ma_error *err);
void ma_httpc_response_free(ma_httpc_response *res);
/* Value of a response header (case-insensitive name), borrowed; NULL when absent. */
const char *ma_httpc_header_get(const ma_httpc_response *res, const char *name);
/* Connections this pool has opened so far (for the reuse benchmark). */
long ma_httpc_connections_opened(const ma_httpc *c);

#endif
