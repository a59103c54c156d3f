/* yaml.h - writing double-quoted YAML scalars and simple key/value lines.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_CLI_YAML_H
#define VT_CLI_YAML_H

#include "cli/cli.h"

/* Append s as a double-quoted YAML scalar. */
int vt__yaml_quote(vt__str_t *out, const char *s);
/* `<indent>key: "value"\n` */
int vt__yaml_kv(vt__str_t *out, int indent, const char *key, const char *value);
/* `<indent>- key: "value"\n` */
int vt__yaml_item_kv(vt__str_t *out, int indent, const char *key, const char *value);

#endif
