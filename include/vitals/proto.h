/* vitals/proto.h - libvitals-proto: a registry in the Prometheus delimited
 * protobuf format (io.prometheus.client.MetricFamily messages).
 *
 * Prometheus asks for this format first when it runs with
 * --enable-feature=native-histograms, because it is the only exposition that
 * carries native histograms. The body is a sequence of MetricFamily messages,
 * each preceded by its length as a base-128 varint, one message per family in
 * exposition order. The message schema is proto/metrics.proto.
 *
 *   vt_http_render() and the embedded server (libvitals-http) use this
 *   library on their own when it was built: they answer a scrape in protobuf
 *   when its Accept header prefers it. Call it directly for another server:
 *
 *   if (vt_proto_preferred(accept)) {
 *       send_header("Content-Type", VT_CONTENT_TYPE_PROTOBUF);
 *       vt_proto_write(reg, send_piece, conn);
 *   }
 *
 * The library depends on the protobuf-c runtime; the core does not.
 * Link with -lvitals_proto (pkg-config vitals-proto, CMake vitals::proto).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_PROTO_H
#define VITALS_PROTO_H

#include "vitals/expose.h"
#include "vitals/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The exact Content-Type of a delimited protobuf scrape body. */
#define VT_CONTENT_TYPE_PROTOBUF                                                                   \
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; "                   \
    "encoding=delimited"

/* vt_format_t value that vt_http_body_t.format takes for a protobuf body. The
 * core's writers do not produce this format: vt_registry_write() refuses it. */
#define VT_FORMAT_PROTOBUF ((vt_format_t)2)

/* vt_proto_preferred - whether a client with this Accept header should get
 * delimited protobuf rather than text.
 *
 * The protobuf range is application/vnd.google.protobuf with the parameters
 * proto=io.prometheus.client.MetricFamily and encoding=delimited. It wins when
 * its q-value is above that of every text range vt_format_from_accept() would
 * serve (openmetrics-text 1.0.0, text/plain 0.0.4, text/(any), (any)/(any)),
 * or equal to the best of them and listed before it. Wildcards never select
 * protobuf; q=0 means not acceptable. NULL, empty and malformed headers give 0.
 * Returns: 1 or 0.
 * Thread-safety: safe from any thread; allocates nothing.
 * Since: 0.1.0
 *
 *     vt_proto_preferred("application/vnd.google.protobuf;"
 *                        "proto=io.prometheus.client.MetricFamily;encoding=delimited,"
 *                        "application/openmetrics-text;version=1.0.0;q=0.8"); // 1
 */
VT_EXTERN int vt_proto_preferred(const char *accept);

/* vt_proto_write - write every family of the registry (families, collectors,
 * self-metrics: what vt_registry_visit() reports) as delimited MetricFamily
 * messages.
 *
 * Each family becomes one message named as Prometheus names its samples: a
 * counter "<name>_total" (type COUNTER), an info "<name>_info" (type GAUGE,
 * value 1), gauges GAUGE, untyped UNTYPED, summaries SUMMARY (count, sum,
 * quantiles), histograms HISTOGRAM with cumulative buckets and without the
 * +Inf bucket, whose count is the sample count, plus schema, zero bucket,
 * spans and deltas when the histogram has native buckets (one empty span when
 * none is populated, so that readers still take it as native; see
 * docs/proto.md). HELP and unit are set; no
 * sample carries a timestamp; counters, summaries and histograms carry their
 * created timestamp when the registry knows it; exemplars go with counters
 * and buckets (an explicit +Inf bucket carries the +Inf one) and, for native
 * histograms, also in Histogram.exemplars. A family without series is
 * left out: the format has no way to say that it exists.
 * Parameters: reg (NULL means vt_registry_default()); sink receives pieces of
 * at most 64 KiB, in order; user_data is passed to sink.
 * Returns: 0; VT_ESINK when the sink refused a piece (the output is then
 * incomplete); VT_ENOMEM; VT_EINVAL (sink NULL); VT_EIO if protobuf-c ever
 * packed a message to another size than it computed (the output would be
 * corrupt, so it stops).
 * Thread-safety: safe from any thread, concurrently with everything else. The
 * sink runs while the registry's read lock is held: it must not register or
 * unregister in the same registry.
 * Ownership: borrows everything; the pieces are valid only during the sink
 * call.
 * Since: 0.1.0
 *
 *     static int to_file(void *ud, const char *data, size_t len) {
 *         return fwrite(data, 1, len, ud) == len ? 0 : -1;
 *     }
 *     vt_proto_write(reg, to_file, stdout);
 */
VT_EXTERN int vt_proto_write(vt_registry_t *reg, vt_sink_fn sink, void *user_data);

#ifdef __cplusplus
}
#endif
#endif
