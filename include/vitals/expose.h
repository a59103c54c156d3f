/* vitals/expose.h - writing a registry in Prometheus text 0.0.4 or OpenMetrics 1.0.
 *
 * A scrape streams into a caller's sink in pieces of bounded size; it never
 * builds the whole output in one buffer unless the caller asks for that
 * (vt_registry_write_buf). Values are snapshotted family by family under the
 * family's lock and formatted after the lock is released, so a slow sink never
 * blocks the instrumented threads.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_EXPOSE_H
#define VITALS_EXPOSE_H

#include <stddef.h>

#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VT_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define VT_CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum vt_format {
    VT_FORMAT_TEXT = 0,       /* Prometheus text 0.0.4 */
    VT_FORMAT_OPENMETRICS = 1 /* OpenMetrics 1.0 text */
} vt_format_t;

/* Receives consecutive pieces of the output. Return 0 to go on; anything else
 * stops the scrape, which then returns VT_ESINK. */
typedef int (*vt_sink_fn)(void *user_data, const char *data, size_t len);

typedef struct vt_write_opts {
    vt_format_t format; /* default VT_FORMAT_TEXT */
    int created;        /* OpenMetrics only: also write _created samples; default 0 */
} vt_write_opts_t;

/* A growable buffer filled by vt_registry_write_buf(). Zero-initialize it. */
typedef struct vt_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
} vt_buf_t;

/* vt_write_opts_init - defaults: text 0.0.4, no _created. Since: 0.1.0 */
VT_EXTERN void vt_write_opts_init(vt_write_opts_t *opts);

/* vt_format_content_type - the exact Content-Type header value of a format.
 * Ownership: static string. Since: 0.1.0 */
VT_EXTERN const char *vt_format_content_type(vt_format_t format);

/* vt_format_from_accept - the format to answer an HTTP Accept header with.
 * Of the ranges we can serve (application/openmetrics-text with version 1.0.0
 * or none; text/plain with version 0.0.4 or none, and the wildcard ranges
 * text/(any) and (any)/(any)), the one
 * with the highest q-value wins, and on a tie the one listed first; q=0 means
 * not acceptable. NULL, empty or malformed headers, or none we can serve, give
 * text 0.0.4.
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN vt_format_t vt_format_from_accept(const char *accept);

/* vt_registry_write - write every family and collector of the registry.
 *
 * Parameters: opts may be NULL (defaults); sink is called with pieces of at
 * most 64 KiB.
 * Returns: 0; VT_ESINK when the sink refused a piece (the output is then
 * incomplete); VT_ENOMEM; VT_EINVAL.
 * Thread-safety: safe from any thread, concurrently with everything else.
 * Since: 0.1.0
 */
VT_EXTERN int vt_registry_write(vt_registry_t *reg, const vt_write_opts_t *opts, vt_sink_fn sink,
                                void *user_data);

/* vt_registry_write_buf - the same, appended to buf.
 * Ownership: buf's memory belongs to the caller; free it with vt_buf_free().
 * Since: 0.1.0 */
VT_EXTERN int vt_registry_write_buf(vt_registry_t *reg, const vt_write_opts_t *opts, vt_buf_t *buf);

/* vt_buf_free - free the buffer's memory and zero it. Since: 0.1.0 */
VT_EXTERN void vt_buf_free(vt_buf_t *buf);

/* vt_format_double - write v as Prometheus prints numbers: the shortest text
 * that reads back as the same double (Go's FormatFloat 'g', -1), NaN, +Inf,
 * -Inf. buf must hold at least VT_DOUBLE_BUFSZ bytes; returns the length
 * written, NUL excluded. Since: 0.1.0 */
#define VT_DOUBLE_BUFSZ 32
VT_EXTERN size_t vt_format_double(double v, char *buf);

#ifdef __cplusplus
}
#endif
#endif
