/* server_message.c - requests and responses as listener types see them (miniatom/listener.h):
 * header and query lookups, and building responses that the server sends and frees. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "miniatom/listener.h"
#include "util.h"

const char *ma_http_header(const ma_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

const char *ma_http_query(const ma_http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
    return NULL;
}

int ma_http_resp_set_owned(ma_http_resp *r, int status, const char *content_type, char *body, size_t len)
{
    char *ct = content_type ? ma_strdup(content_type) : NULL;
    if (content_type && !ct) {
        free(body);
        return -1;
    }
    free(r->body);
    free(r->content_type);
    r->status = status;
    r->content_type = ct;
    r->body = body;
    r->body_len = body ? len : 0;
    return 0;
}

int ma_http_resp_set(ma_http_resp *r, int status, const char *content_type, const char *body, size_t len)
{
    char *b = NULL;
    if (body) {
        b = malloc(len + 1);
        if (!b) return -1;
        memcpy(b, body, len);
        b[len] = '\0';
    }
    return ma_http_resp_set_owned(r, status, content_type, b, len);
}

int ma_http_resp_header(ma_http_resp *r, const char *name, const char *value)
{
    char **nh = realloc(r->headers, (r->n_headers + 1) * sizeof *nh);
    if (!nh) return -1;
    r->headers = nh;
    if (!(nh[r->n_headers] = ma_asprintf("%s: %s", name, value))) return -1;
    r->n_headers++;
    return 0;
}

void ma_http_resp_clear(ma_http_resp *r)
{
    free(r->body);
    free(r->content_type);
    ma_strings_free(r->headers, r->n_headers);
    memset(r, 0, sizeof *r);
}

int ma_http_resp_error(ma_http_resp *r, int status, const char *message, const char *execution_id)
{
    ma_sb b;
    ma_sb_init(&b);
    ma_sb_lit(&b, "{\"error\":");
    ma_sb_json_str(&b, message ? message : "");
    if (execution_id && *execution_id) {
        ma_sb_lit(&b, ",\"executionId\":");
        ma_sb_json_str(&b, execution_id);
        ma_strlcpy(r->execution_id, execution_id, sizeof r->execution_id);
    }
    ma_sb_lit(&b, "}\n");
    size_t len;
    char *body = ma_sb_take(&b, &len);
    if (!body) return -1;
    return ma_http_resp_set_owned(r, status, "application/json", body, len);
}
