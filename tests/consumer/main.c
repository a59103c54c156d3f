/* main.c - a program that uses an installed vitals the way a user would.
 *
 * Creates a registry with one labelled counter, counts three requests, writes
 * the text exposition into a buffer, checks the sample is there and prints the
 * output. Built against the installed package by run.sh, once through
 * find_package(vitals) and once through pkg-config.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <vitals.h>

#define EXPECTED "consumer_requests_total{method=\"GET\"} 3\n"

static int fail(const char *what, int err) {
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, vt_strerror(err), vt_err_name(err));
    return 1;
}

int main(void) {
    if (vt_version() != VT_VERSION_HEX || strcmp(vt_version_string(), VT_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: header %s but library %s\n", VT_VERSION_STRING,
                vt_version_string());
        return 1;
    }

    vt_registry_t *reg = NULL;
    int err = vt_registry_create(&reg);
    if (err != 0) {
        return fail("vt_registry_create", err);
    }

    vt_counter_t *requests = NULL;
    err = vt_counter_create(reg, "consumer_requests_total", "Requests served.", VT_LABELS("method"),
                            &requests);
    if (err != 0) {
        vt_registry_destroy(reg);
        return fail("vt_counter_create", err);
    }

    vt_counter_series_t *get = NULL;
    err = vt_counter_with(requests, VT_VALUES("GET"), &get);
    if (err != 0) {
        vt_registry_destroy(reg);
        return fail("vt_counter_with", err);
    }
    vt_counter_inc(get);
    vt_counter_inc(get);
    vt_counter_add(get, 1.0);

    vt_buf_t out = {0};
    err = vt_registry_write_buf(reg, NULL, &out);
    if (err != 0) {
        vt_buf_free(&out);
        vt_registry_destroy(reg);
        return fail("vt_registry_write_buf", err);
    }

    int ok = out.len > 0 && strstr(out.data, EXPECTED) != NULL;
    fwrite(out.data, 1, out.len, stdout);
    if (!ok) {
        fprintf(stderr, "consumer: the exposition lacks: %s", EXPECTED);
    }
    vt_buf_free(&out);
    vt_registry_destroy(reg);
    return ok ? 0 : 1;
}
