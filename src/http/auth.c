/* auth.c - salted SHA-256 password hashes and their constant-time check.
 *
 * A hash string reads "sha256$<salt>$<64 hex digits>", the digits being
 * SHA-256(salt || password). SHA-256 comes from GnuTLS, which libmicrohttpd
 * already depends on. A check always hashes the given user and the given
 * password and compares both digests in full, folding the differences into
 * one byte, so its time does not depend on which part is wrong or where.
 * No shared state: safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "http_internal.h"

#define PREFIX "sha256$"
#define PREFIX_LEN 7
#define RANDOM_SALT_LEN 16

static const char salt_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

static int salt_char_ok(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static int salt_ok(const char *s, size_t n) {
    size_t i;
    if (n == 0 || n > VT_HTTP_SALT_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!salt_char_ok(s[i]))
            return 0;
    return 1;
}

static int sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t *out) {
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return VT_EIO;
    if ((alen && gnutls_hash(h, a, alen) < 0) || (blen && gnutls_hash(h, b, blen) < 0)) {
        gnutls_hash_deinit(h, NULL);
        return VT_EIO;
    }
    gnutls_hash_deinit(h, out);
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Differences between two digests folded into one byte: 0 when equal. The
 * loop always runs to the end. */
static unsigned ct_diff(const uint8_t *a, const uint8_t *b) {
    volatile unsigned char acc = 0;
    size_t i;
    for (i = 0; i < VT__SHA256_LEN; i++)
        acc = (unsigned char)(acc | (a[i] ^ b[i]));
    return acc;
}

int vt_http_hash_password(const char *salt, const char *password, char *out_hash) {
    static const char hex[] = "0123456789abcdef";
    char drawn[RANDOM_SALT_LEN + 1];
    uint8_t digest[VT__SHA256_LEN];
    size_t salt_len, i;
    char *p;
    int rc;

    if (!password || !out_hash)
        return VT_EINVAL;
    if (!salt) {
        unsigned char rnd[RANDOM_SALT_LEN];
        if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
            return VT_EIO;
        for (i = 0; i < RANDOM_SALT_LEN; i++)
            drawn[i] = salt_alphabet[rnd[i] & 63];
        drawn[RANDOM_SALT_LEN] = '\0';
        salt = drawn;
    }
    salt_len = strlen(salt);
    if (!salt_ok(salt, salt_len))
        return VT_EINVAL;
    rc = sha256(salt, salt_len, password, strlen(password), digest);
    if (rc != 0)
        return rc;
    p = out_hash;
    memcpy(p, PREFIX, PREFIX_LEN);
    p += PREFIX_LEN;
    memcpy(p, salt, salt_len);
    p += salt_len;
    *p++ = '$';
    for (i = 0; i < VT__SHA256_LEN; i++) {
        *p++ = hex[digest[i] >> 4];
        *p++ = hex[digest[i] & 15];
    }
    *p = '\0';
    return 0;
}

int vt__auth_init(vt__auth_t *a, const char *user, const char *hash) {
    const char *salt, *dollar, *hexs;
    size_t i;
    if (!a || !user || !hash)
        return VT_EINVAL;
    memset(a, 0, sizeof(*a));
    if (strncmp(hash, PREFIX, PREFIX_LEN) != 0)
        return VT_EINVAL;
    salt = hash + PREFIX_LEN;
    dollar = strchr(salt, '$');
    if (!dollar || !salt_ok(salt, (size_t)(dollar - salt)))
        return VT_EINVAL;
    hexs = dollar + 1;
    if (strlen(hexs) != 2 * VT__SHA256_LEN)
        return VT_EINVAL;
    for (i = 0; i < VT__SHA256_LEN; i++) {
        int hi = hexval(hexs[2 * i]), lo = hexval(hexs[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return VT_EINVAL;
        a->pass_digest[i] = (uint8_t)(hi << 4 | lo);
    }
    a->salt_len = (size_t)(dollar - salt);
    memcpy(a->salt, salt, a->salt_len);
    a->salt[a->salt_len] = '\0';
    return sha256(user, strlen(user), NULL, 0, a->user_digest);
}

int vt__auth_verify(const vt__auth_t *a, const char *given_user, const char *given_password) {
    uint8_t ud[VT__SHA256_LEN], pd[VT__SHA256_LEN];
    unsigned diff;
    if (!given_user || !given_password)
        return VT_EAUTH;
    if (sha256(given_user, strlen(given_user), NULL, 0, ud) != 0 ||
        sha256(a->salt, a->salt_len, given_password, strlen(given_password), pd) != 0)
        return VT_EAUTH;
    diff = ct_diff(ud, a->user_digest) | ct_diff(pd, a->pass_digest);
    return diff == 0 ? 0 : VT_EAUTH;
}

int vt_http_auth_check(const char *user, const char *hash, const char *given_user,
                       const char *given_password) {
    vt__auth_t a;
    int rc = vt__auth_init(&a, user, hash);
    if (rc != 0)
        return rc == VT_EIO ? VT_EAUTH : rc;
    return vt__auth_verify(&a, given_user, given_password);
}
