/* render.c - a registry scrape rendered into one memory body, gzipped or not.
 *
 * The format is delimited protobuf when libvitals-proto is built in
 * (VT_HTTP_HAVE_PROTO) and the Accept header prefers it, else the text format
 * vt_format_from_accept() picks. The writers stream the exposition into a
 * sink in pieces; the sink here either appends each piece to a growing buffer
 * or feeds it straight to zlib, so a gzipped scrape never holds the
 * uncompressed body in full. The buffer comes from malloc() so that
 * libmicrohttpd can free() it with MHD_RESPMEM_MUST_FREE. Each call owns its
 * state: safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "http_internal.h"
#ifdef VT_HTTP_HAVE_PROTO
#include "vitals/proto.h"
#endif

/* zlib's windowBits for a deflate stream with a gzip header and trailer. */
#define GZIP_WINDOW_BITS (15 + 16)
#define INITIAL_CAP 16384

typedef struct out {
    char *data;
    size_t len;
    size_t cap;
    int gzip;    /* pieces go through zs */
    z_stream zs; /* valid when gzip */
    int failed;  /* an allocation or zlib call failed */
} out_t;

static int reserve(out_t *o, size_t extra) {
    size_t cap = o->cap ? o->cap : INITIAL_CAP;
    char *p;
    if (o->cap - o->len >= extra && o->data)
        return 0;
    while (cap - o->len < extra) {
        if (cap > SIZE_MAX / 2)
            return VT_ENOMEM;
        cap *= 2;
    }
    p = realloc(o->data, cap);
    if (!p)
        return VT_ENOMEM;
    o->data = p;
    o->cap = cap;
    return 0;
}

/* Run deflate until it has consumed its input (flush Z_NO_FLUSH) or written
 * the whole stream (Z_FINISH). */
static int pump(out_t *o, int flush) {
    for (;;) {
        size_t room;
        int rc;
        if (reserve(o, 4096) != 0)
            return VT_ENOMEM;
        room = o->cap - o->len;
        if (room > UINT_MAX)
            room = UINT_MAX;
        o->zs.next_out = (Bytef *)(o->data + o->len);
        o->zs.avail_out = (uInt)room;
        rc = deflate(&o->zs, flush);
        o->len += room - o->zs.avail_out;
        if (rc == Z_STREAM_END)
            return 0;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return VT_EIO;
        if (flush == Z_NO_FLUSH && o->zs.avail_in == 0 && o->zs.avail_out > 0)
            return 0;
    }
}

static int sink(void *user_data, const char *data, size_t len) {
    out_t *o = user_data;
    if (!o->gzip) {
        if (reserve(o, len) != 0) {
            o->failed = VT_ENOMEM;
            return -1;
        }
        memcpy(o->data + o->len, data, len);
        o->len += len;
        return 0;
    }
    while (len > 0) {
        size_t piece = len > UINT_MAX ? UINT_MAX : len;
        int rc;
        o->zs.next_in = (Bytef *)(uintptr_t)data;
        o->zs.avail_in = (uInt)piece;
        rc = pump(o, Z_NO_FLUSH);
        if (rc != 0) {
            o->failed = rc;
            return -1;
        }
        data += piece;
        len -= piece;
    }
    return 0;
}

/* Whether to answer in delimited protobuf, and the writer that does. Without
 * libvitals-proto the answer is always text. */
#ifdef VT_HTTP_HAVE_PROTO
#define PROTO_FORMAT VT_FORMAT_PROTOBUF
#define PROTO_CONTENT_TYPE VT_CONTENT_TYPE_PROTOBUF
static int prefers_proto(const char *accept) {
    return vt_proto_preferred(accept);
}
static int write_proto(vt_registry_t *reg, out_t *o) {
    return vt_proto_write(reg, sink, o);
}
#else
#define PROTO_FORMAT VT_FORMAT_TEXT
#define PROTO_CONTENT_TYPE VT_CONTENT_TYPE_TEXT
static int prefers_proto(const char *accept) {
    (void)accept;
    return 0;
}
static int write_proto(vt_registry_t *reg, out_t *o) {
    (void)reg;
    (void)o;
    return VT_EUNSUPPORTED;
}
#endif

void vt_http_render_opts_init(vt_http_render_opts_t *opts) {
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->gzip = 1;
    opts->gzip_level = 1;
    opts->created = 0;
}

void vt_http_body_free(vt_http_body_t *body) {
    if (!body)
        return;
    free(body->data);
    memset(body, 0, sizeof(*body));
}

int vt_http_render(vt_registry_t *reg, const char *accept, const char *accept_encoding,
                   const vt_http_render_opts_t *opts, vt_http_body_t *out_body) {
    vt_http_render_opts_t defaults;
    vt_write_opts_t wopts;
    out_t o;
    int rc, proto;

    if (!out_body)
        return VT_EINVAL;
    memset(out_body, 0, sizeof(*out_body));
    if (!opts) {
        vt_http_render_opts_init(&defaults);
        opts = &defaults;
    }
    if (opts->gzip && (opts->gzip_level < 1 || opts->gzip_level > 9))
        return VT_EINVAL;
    if (!reg)
        reg = vt_registry_default();

    memset(&o, 0, sizeof(o));
    vt_write_opts_init(&wopts);
    proto = prefers_proto(accept);
    wopts.format = vt_format_from_accept(accept);
    wopts.created = opts->created;
    o.gzip = opts->gzip && vt_http_accepts_gzip(accept_encoding);
    if (o.gzip && deflateInit2(&o.zs, opts->gzip_level, Z_DEFLATED, GZIP_WINDOW_BITS, 8,
                               Z_DEFAULT_STRATEGY) != Z_OK)
        return VT_ENOMEM;

    if (proto)
        rc = write_proto(reg, &o);
    else
        rc = vt_registry_write(reg, &wopts, sink, &o);
    if (rc == VT_ESINK && o.failed)
        rc = o.failed;
    if (rc == 0 && o.gzip) {
        rc = pump(&o, Z_FINISH);
    }
    if (o.gzip)
        deflateEnd(&o.zs);
    if (rc == 0 && o.len > 0)
        rc = reserve(&o, 1);
    if (rc != 0) {
        free(o.data);
        return rc;
    }
    if (o.len > 0)
        o.data[o.len] = '\0'; /* not part of the body; handy for text */
    if (o.len == 0) {
        free(o.data);
        o.data = NULL;
    }
    out_body->data = o.data;
    out_body->len = o.len;
    out_body->format = proto ? PROTO_FORMAT : wopts.format;
    out_body->content_type = proto ? PROTO_CONTENT_TYPE : vt_format_content_type(wopts.format);
    out_body->content_encoding = o.gzip ? "gzip" : NULL;
    return 0;
}
