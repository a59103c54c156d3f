/* sample_value.h - one sample's value from a registry, for the http tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_TEST_HTTP_SAMPLE_VALUE_H
#define VT_TEST_HTTP_SAMPLE_VALUE_H

#include "vitals.h"

/* The value of name{label="value"} (no labels when label is NULL) in reg, or
 * -1 when there is none. */
static inline double sample_one(vt_registry_t *reg, const char *name, const char *label,
                                const char *value) {
    double v = -1;
    const char *names[] = {label, NULL}, *values[] = {value, NULL};
    if (vt_registry_get_sample_value(reg, name, label ? names : NULL, label ? values : NULL, &v) !=
        0)
        return -1;
    return v;
}

#endif
