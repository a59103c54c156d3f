/* error.c - vt_strerror() and vt_err_name(), generated from the one code table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "vitals/error.h"

const char *vt_strerror(int err) {
    switch (err) {
    case 0:
        return "success";
#define VT__ERR_MSG(name, num, msg)                                                                \
    case num:                                                                                      \
        return msg;
        VT_ERRNO_MAP(VT__ERR_MSG)
#undef VT__ERR_MSG
    default:
        return "unknown error";
    }
}

const char *vt_err_name(int err) {
    switch (err) {
    case 0:
        return "0";
#define VT__ERR_NAME(name, num, msg)                                                               \
    case num:                                                                                      \
        return "VT_" #name;
        VT_ERRNO_MAP(VT__ERR_NAME)
#undef VT__ERR_NAME
    default:
        return "VT_UNKNOWN";
    }
}

unsigned vt_version(void) {
    return VT_VERSION_HEX;
}

const char *vt_version_string(void) {
    return VT_VERSION_STRING;
}
