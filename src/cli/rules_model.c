/* rules_model.c - names, groupings and annotation texts of the rules of one RED family.
 *
 * See rules.h for the naming scheme. The annotation functions take their
 * variable parts from the caller, so the rules file gets template
 * references ("{{ $labels.route }}") and the test file the expanded values.
 *
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/rules.h"

static char *camel_case(const char *name) {
    vt__str_t s = {0};
    int up = 1;
    for (const char *p = name; *p; p++) {
        if (*p == '_' || *p == ':') {
            up = 1;
            continue;
        }
        char c = up ? (char)toupper((unsigned char)*p) : *p;
        vt__str_add(&s, &c, 1);
        up = 0;
    }
    if (vt__str_ok(&s)) {
        vt__str_free(&s);
        return NULL;
    }
    return vt__str_take(&s);
}

/* "job" or "job_<label>". */
static char *level(const char *label) {
    return label ? vt__aprintf("job_%s", label) : vt__strdup("job");
}

/* A metric name without its "_total" suffix. */
static char *base_metric(const char *name) {
    size_t n = strlen(name);
    if (n > 6 && strcmp(name + n - 6, "_total") == 0) {
        n -= 6;
    }
    return vt__aprintf("%.*s", (int)n, name);
}

int vt__family_rules_init(vt__family_rules_t *fr, const vt__red_t *r, const vt__rules_opts_t *o) {
    memset(fr, 0, sizeof *fr);
    fr->r = r;
    fr->rate_by = (vt__by_t){{"job", r->route_label}};
    fr->ratio_by = (vt__by_t){{"job", r->errors_route_label}};
    fr->p99_by = (vt__by_t){{"job", r->duration_route_label}};
    char *rate_level = level(r->route_label);
    char *ratio_level = level(r->errors_route_label);
    char *p99_level = level(r->duration_route_label);
    char *requests = base_metric(r->requests);
    char *errors = base_metric(r->errors);
    fr->camel = camel_case(r->name);
    if (rate_level && ratio_level && p99_level && requests && errors && fr->camel) {
        fr->rate_record = vt__aprintf("%s:%s:rate%s", rate_level, requests, o->window);
        fr->ratio_record = vt__aprintf("%s:%s_errors:ratio_rate%s", ratio_level, errors, o->window);
        fr->p99_record = vt__aprintf("%s:%s:p99_rate%s", p99_level, r->histogram, o->window);
        fr->error_alert = vt__aprintf("%sErrorRatioHigh", fr->camel);
        fr->latency_alert = vt__aprintf("%sLatencyP99High", fr->camel);
    }
    free(rate_level);
    free(ratio_level);
    free(p99_level);
    free(requests);
    free(errors);
    if (!fr->rate_record || !fr->ratio_record || !fr->p99_record || !fr->error_alert ||
        !fr->latency_alert) {
        vt__family_rules_free(fr);
        return VT_ENOMEM;
    }
    return 0;
}

void vt__family_rules_free(vt__family_rules_t *fr) {
    free(fr->camel);
    free(fr->rate_record);
    free(fr->ratio_record);
    free(fr->p99_record);
    free(fr->error_alert);
    free(fr->latency_alert);
    memset(fr, 0, sizeof *fr);
}

void vt__fmt_seconds(double s, char *buf, size_t n) {
    if (s > 0 && s < 1) {
        snprintf(buf, n, "%gms", s * 1000);
    } else {
        snprintf(buf, n, "%gs", s);
    }
}

/* " on <route>" or "". */
static const char *on_route(const vt__ann_vars_t *v, char *buf, size_t n) {
    if (v->route) {
        snprintf(buf, n, " on %s", v->route);
    } else {
        buf[0] = '\0';
    }
    return buf;
}

char *vt__ann_error_summary(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                            const vt__ann_vars_t *v) {
    char route[256];
    return vt__aprintf("%s: more than %g%% of %s fail%s", v->job, o->error_ratio * 100,
                       fr->r->errors, on_route(v, route, sizeof route));
}

char *vt__ann_error_description(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                                const vt__ann_vars_t *v) {
    char route[256];
    return vt__aprintf("%s of %s%s in %s had %s over the last %s; the objective is at most %g%%.",
                       v->value, fr->r->errors, on_route(v, route, sizeof route), v->job,
                       fr->r->error_matcher, o->window, o->error_ratio * 100);
}

char *vt__ann_latency_summary(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                              const vt__ann_vars_t *v) {
    char route[256], objective[64];
    vt__fmt_seconds(o->latency, objective, sizeof objective);
    return vt__aprintf("%s: p99 of %s above %s%s", v->job, fr->r->histogram, objective,
                       on_route(v, route, sizeof route));
}

char *vt__ann_latency_description(const vt__family_rules_t *fr, const vt__rules_opts_t *o,
                                  const vt__ann_vars_t *v) {
    char route[256], objective[64];
    vt__fmt_seconds(o->latency, objective, sizeof objective);
    return vt__aprintf("The p99 of %s%s in %s is %s over the last %s; the objective is %s.",
                       fr->r->histogram, on_route(v, route, sizeof route), v->job, v->value,
                       o->window, objective);
}
