/* test_error.c - the error table and the version calls agree with their headers.
 *
 * Walks VT_ERRNO_MAP so that a code appended to the table is covered without
 * editing this file: every code must be negative, distinct, contiguous from -1
 * down to VT_ERRNO_MIN_ + 1, and have its own name and non-empty message.
 *
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vitals.h"

struct code {
    int num;
    const char *name; /* "VT_" + the table's name */
    const char *msg;
};

static const struct code codes[] = {
#define ROW(name, num, msg) {(num), "VT_" #name, (msg)},
    VT_ERRNO_MAP(ROW)
#undef ROW
};

#define NCODES (sizeof codes / sizeof codes[0])

static void test_messages_match_table(void) {
    for (size_t i = 0; i < NCODES; i++) {
        const char *msg = vt_strerror(codes[i].num);
        CHECK_STR(msg, codes[i].msg);
        CHECK(msg != NULL && msg[0] != '\0');
        CHECK(msg != NULL && strcmp(msg, "unknown error") != 0);
        if (msg != NULL && msg[0] != '\0') {
            size_t n = strlen(msg);
            CHECK(msg[n - 1] != '.' && msg[n - 1] != '\n');
        }
    }
}

static void test_names_match_table(void) {
    for (size_t i = 0; i < NCODES; i++) {
        CHECK_STR(vt_err_name(codes[i].num), codes[i].name);
    }
}

static void test_enum_matches_table(void) {
    /* The enum is generated from the same table; spot-check the anchors. */
    CHECK_INT(VT_EINVAL, -1);
    CHECK_INT(VT_ENOMEM, -2);
    CHECK_INT(VT_EUTF8, -7);
    CHECK_STR(vt_err_name(VT_EUTF8), "VT_EUTF8");
    CHECK_STR(vt_err_name(VT_EUNSUPPORTED), "VT_EUNSUPPORTED");
}

static void test_codes_distinct_negative_contiguous(void) {
    int seen_min = 0;
    for (size_t i = 0; i < NCODES; i++) {
        CHECK(codes[i].num < 0);
        if (codes[i].num < seen_min) {
            seen_min = codes[i].num;
        }
        for (size_t j = i + 1; j < NCODES; j++) {
            CHECK(codes[i].num != codes[j].num);
            CHECK(strcmp(codes[i].name, codes[j].name) != 0);
            CHECK(strcmp(codes[i].msg, codes[j].msg) != 0);
        }
    }
    /* No gaps: n distinct negative codes whose minimum is -n fill -1..-n. */
    CHECK_INT(seen_min, -(long long)NCODES);
    /* The sentinel sits just past the last code, so appending a code without
     * moving it shows up here. */
    CHECK_INT(VT_ERRNO_MIN_, seen_min - 1);
    for (int e = -1; e > VT_ERRNO_MIN_; e--) {
        CHECK(strcmp(vt_err_name(e), "VT_UNKNOWN") != 0);
    }
}

static void test_success(void) {
    const char *msg = vt_strerror(0);
    CHECK(msg != NULL && msg[0] != '\0');
    CHECK(msg != NULL && strcmp(msg, "unknown error") != 0);
    const char *name = vt_err_name(0);
    CHECK(name != NULL && name[0] != '\0');
    CHECK(name != NULL && strcmp(name, "VT_UNKNOWN") != 0);
}

static void test_unknown_codes(void) {
    const int unknown[] = {VT_ERRNO_MIN_, VT_ERRNO_MIN_ - 1, 1, 2, 42, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK_STR(vt_strerror(unknown[i]), "unknown error");
        CHECK_STR(vt_err_name(unknown[i]), "VT_UNKNOWN");
    }
}

static void test_strings_are_static(void) {
    /* The same pointer each time: nothing is formatted into a buffer. */
    CHECK(vt_strerror(VT_ENOMEM) == vt_strerror(VT_ENOMEM));
    CHECK(vt_err_name(VT_ENOMEM) == vt_err_name(VT_ENOMEM));
    CHECK(vt_strerror(12345) == vt_strerror(54321));
}

static void test_version(void) {
    CHECK_INT(vt_version(), VT_VERSION_HEX);
    CHECK_STR(vt_version_string(), VT_VERSION_STRING);

    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", VT_VERSION_MAJOR, VT_VERSION_MINOR,
             VT_VERSION_PATCH);
    CHECK_STR(VT_VERSION_STRING, expect);
    CHECK_INT((vt_version() >> 16) & 0xffu, VT_VERSION_MAJOR);
    CHECK_INT((vt_version() >> 8) & 0xffu, VT_VERSION_MINOR);
    CHECK_INT(vt_version() & 0xffu, VT_VERSION_PATCH);
}

int main(void) {
    RUN(test_messages_match_table);
    RUN(test_names_match_table);
    RUN(test_enum_matches_table);
    RUN(test_codes_distinct_negative_contiguous);
    RUN(test_success);
    RUN(test_unknown_codes);
    RUN(test_strings_are_static);
    RUN(test_version);
    TEST_EXIT();
}
