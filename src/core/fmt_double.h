/* fmt_double.h - internal number formatting for the exposition writers.
 *
 * The public vt_format_double() (vitals/expose.h) writes a double as Prometheus
 * and Go print it. The helpers below are its internal siblings: the canonical
 * form OpenMetrics demands for `le` and `quantile` label values, and plain
 * unsigned integers for bucket and sample counts. All are pure functions of
 * their argument that write into the caller's buffer, so they are safe from any
 * thread, and none depends on the C locale.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_CORE_FMT_DOUBLE_H
#define VITALS_CORE_FMT_DOUBLE_H

#include <stddef.h>
#include <stdint.h>

#include "vitals/expose.h"

/* Bytes a buffer of vt__format_u64() needs: 20 digits of UINT64_MAX and a NUL. */
#define VT__U64_BUFSZ 21

/* vt__format_om_canonical - v as vt_format_double() writes it, plus ".0" when
 * that text is a bare integer: 1.0, 0.0, -2.0, 100000.0, but 1e-05, 1e+06,
 * 0.25, +Inf, NaN unchanged. buf holds at least VT_DOUBLE_BUFSZ bytes; returns
 * the length, NUL excluded. */
size_t vt__format_om_canonical(double v, char *buf);

/* vt__format_u64 - v in decimal, without leading zeros ("0" for zero). buf
 * holds at least VT__U64_BUFSZ bytes; returns the length, NUL excluded. */
size_t vt__format_u64(uint64_t v, char *buf);

#endif
