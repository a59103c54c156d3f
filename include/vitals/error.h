/* vitals/error.h - error codes shared by every vitals library.
 *
 * Fallible calls return 0 on success or one of the negative VT_E* codes below.
 * The table is append-only: never remove an entry, never renumber one.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_ERROR_H
#define VITALS_ERROR_H

#include "vitals/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, number, message). Append only. */
#define VT_ERRNO_MAP(X)                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(ENAME, -3, "invalid metric name")                                                            \
    X(ELABELNAME, -4, "invalid label name")                                                        \
    X(ERESERVED, -5, "reserved label name")                                                        \
    X(ELABELCOUNT, -6, "label value count does not match label names")                             \
    X(EUTF8, -7, "label value or text is not valid UTF-8")                                         \
    X(EDUPLICATE, -8, "a metric with this name is already registered")                             \
    X(ENOTFOUND, -9, "no such metric, series or collector")                                        \
    X(EBUCKETS, -10, "histogram bucket bounds must be finite and strictly increasing")             \
    X(ESINK, -11, "the output sink reported a failure")                                            \
    X(ETYPE, -12, "operation does not fit the metric type")                                        \
    X(EBUSY, -13, "object is in use")                                                              \
    X(ERANGE, -14, "value out of range")                                                           \
    X(EIO, -15, "input/output error")                                                              \
    X(EUNIT, -16, "metric name must end with the unit")                                            \
    X(EDUPLABEL, -17, "duplicate label name")                                                      \
    X(ELIMIT, -18, "a size limit was exceeded")                                                    \
    X(ECOLLECTOR, -19, "a collector emitted invalid data")                                         \
    X(ESTATE, -20, "call made in the wrong state")                                                 \
    X(EPARSE, -21, "input could not be parsed")                                                    \
    X(ENET, -22, "network error")                                                                  \
    X(EHTTP, -23, "the server answered with an HTTP error")                                        \
    X(ETIMEDOUT, -24, "operation timed out")                                                       \
    X(EAUTH, -25, "authentication failed")                                                         \
    X(EUNSUPPORTED, -26, "not supported by this build")

typedef enum vt_errno {
#define VT__ERR_ENUM(name, num, msg) VT_##name = (num),
    VT_ERRNO_MAP(VT__ERR_ENUM)
#undef VT__ERR_ENUM
        VT_ERRNO_MIN_ = -27
} vt_errno_t;

/* vt_strerror - a static English message for an error code.
 *
 * Parameters: err, 0 or a VT_E* code. Returns a message that never changes and
 * never needs freeing; an unknown code gives "unknown error".
 * Thread-safety: safe from any thread.
 * Ownership: the string is static.
 * Since: 0.1.0
 */
VT_EXTERN const char *vt_strerror(int err);

/* vt_err_name - the code's name, such as "VT_EUTF8"; "VT_UNKNOWN" otherwise.
 *
 * Thread-safety: safe from any thread.
 * Ownership: the string is static.
 * Since: 0.1.0
 */
VT_EXTERN const char *vt_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif
