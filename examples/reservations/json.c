/* json.c - the little JSON the service writes: UTF-8 checks on user input and
 * JSON string escaping into a caller's fixed buffer.
 *
 * Both functions are pure: safe from any thread.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "service.h"

long res_utf8_chars(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    long chars = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t need;
        unsigned cp, min;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            i++;
            chars++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return -1;
        }
        if (len - i <= need)
            return -1;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* overlong forms, UTF-16 surrogates and values past U+10FFFF */
        if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return -1;
        i += need + 1;
        chars++;
    }
    return chars;
}

static int put(char *out, size_t cap, size_t *pos, const char *s, size_t n) {
    if (*pos + n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[*pos + i] = s[i];
    *pos += n;
    out[*pos] = '\0';
    return 0;
}

int res_json_string(char *out, size_t cap, size_t *pos, const char *s, size_t len) {
    if (put(out, cap, pos, "\"", 1) != 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        int rc;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = put(out, cap, pos, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rc = put(out, cap, pos, esc, 6);
        } else {
            rc = put(out, cap, pos, (const char *)&s[i], 1);
        }
        if (rc != 0)
            return -1;
    }
    return put(out, cap, pos, "\"", 1);
}
