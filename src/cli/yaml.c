/* yaml.c - the little YAML the vitals command writes: every string double-quoted and escaped.
 *
 * Generated YAML never relies on plain scalars for text, so no value can be
 * misread as a number, a boolean, a comment or a mapping: strings are
 * written in double quotes with `\` and `"` escaped, control characters as
 * \n, \t or \xNN escapes. Input is UTF-8 and passes through unchanged.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "cli/yaml.h"

int vt__yaml_quote(vt__str_t *out, const char *s) {
    vt__str_puts(out, "\"");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '\\':
            vt__str_puts(out, "\\\\");
            break;
        case '"':
            vt__str_puts(out, "\\\"");
            break;
        case '\n':
            vt__str_puts(out, "\\n");
            break;
        case '\t':
            vt__str_puts(out, "\\t");
            break;
        case '\r':
            vt__str_puts(out, "\\r");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                vt__str_printf(out, "\\x%02x", c);
            } else {
                vt__str_add(out, p, 1);
            }
        }
    }
    return vt__str_puts(out, "\"");
}

int vt__yaml_kv(vt__str_t *out, int indent, const char *key, const char *value) {
    vt__str_printf(out, "%*s%s: ", indent, "", key);
    vt__yaml_quote(out, value);
    return vt__str_puts(out, "\n");
}

int vt__yaml_item_kv(vt__str_t *out, int indent, const char *key, const char *value) {
    vt__str_printf(out, "%*s- %s: ", indent, "", key);
    vt__yaml_quote(out, value);
    return vt__str_puts(out, "\n");
}
