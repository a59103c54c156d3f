/* args.c - reading option values: formats, numbers, Prometheus durations, regular expressions.
 *
 * Durations follow Prometheus' grammar: one or more <integer><unit> parts,
 * units ms s m h d w y, largest first, each unit at most once.
 *
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

int vt__parse_format_name(const char *s, int *out_format) {
    if (strcasecmp(s, "text") == 0 || strcasecmp(s, "prometheus") == 0) {
        *out_format = VT_FORMAT_TEXT;
    } else if (strcasecmp(s, "openmetrics") == 0 || strcasecmp(s, "om") == 0) {
        *out_format = VT_FORMAT_OPENMETRICS;
    } else {
        return VT_EINVAL;
    }
    return 0;
}

int vt__parse_number(const char *s, double lo, double hi, double *out) {
    char *end;
    if (!*s) {
        return VT_EINVAL;
    }
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo || v > hi) {
        return VT_EINVAL;
    }
    *out = v;
    return 0;
}

int vt__parse_duration(const char *s, double *out_seconds) {
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"y", 365 * 86400.0}, {"w", 7 * 86400.0}, {"d", 86400.0}, {"h", 3600.0},
                 {"m", 60.0},          {"s", 1.0},         {"ms", 0.001}};
    const size_t nunits = sizeof units / sizeof units[0];
    size_t next_unit = 0; /* units must come largest first, once each */
    double total = 0;
    const char *p = s;
    if (!*p) {
        return VT_EINVAL;
    }
    while (*p) {
        if (*p < '0' || *p > '9') {
            return VT_EINVAL;
        }
        double n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > 1e15) {
                return VT_EINVAL;
            }
            p++;
        }
        size_t u = nunits;
        /* "ms" before "m": try the longest unit that matches here. */
        if (p[0] == 'm' && p[1] == 's') {
            u = nunits - 1;
        } else {
            for (size_t i = 0; i + 1 < nunits; i++) {
                if (*p == units[i].unit[0]) {
                    u = i;
                    break;
                }
            }
        }
        if (u == nunits || u < next_unit) {
            return VT_EINVAL;
        }
        p += strlen(units[u].unit);
        next_unit = u + 1;
        total += n * units[u].seconds;
    }
    *out_seconds = total;
    return 0;
}

void vt__format_duration(double seconds, char *buf, size_t n) {
    long long s = llround(seconds);
    if (s > 0 && s % 3600 == 0) {
        snprintf(buf, n, "%lldh", s / 3600);
    } else if (s > 0 && s % 60 == 0) {
        snprintf(buf, n, "%lldm", s / 60);
    } else {
        snprintf(buf, n, "%llds", s);
    }
}

int vt__regex_list_add(vt__regex_list_t *l, const char *pattern, char *err, size_t errlen) {
    regex_t *items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items) {
        return VT_ENOMEM;
    }
    l->items = items;
    char *anchored = vt__aprintf("^(%s)$", pattern);
    if (!anchored) {
        return VT_ENOMEM;
    }
    int rc = regcomp(&items[l->count], anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (rc != 0) {
        char why[128];
        regerror(rc, &items[l->count], why, sizeof why);
        snprintf(err, errlen, "bad regular expression \"%s\": %s", pattern, why);
        return VT_EINVAL;
    }
    l->count++;
    return 0;
}

int vt__regex_list_match(const vt__regex_list_t *l, const char *s) {
    const regex_t *items = l->items;
    for (size_t i = 0; i < l->count; i++) {
        if (regexec(&items[i], s, 0, NULL, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

void vt__regex_list_free(vt__regex_list_t *l) {
    regex_t *items = l->items;
    for (size_t i = 0; i < l->count; i++) {
        regfree(&items[i]);
    }
    free(items);
    memset(l, 0, sizeof *l);
}
