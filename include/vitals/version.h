/* vitals/version.h - the library version, in one place.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_VERSION_H
#define VITALS_VERSION_H

#define VT_VERSION_MAJOR 0
#define VT_VERSION_MINOR 1
#define VT_VERSION_PATCH 0
#define VT_VERSION_STRING "0.1.0"
#define VT_VERSION_HEX ((VT_VERSION_MAJOR << 16) | (VT_VERSION_MINOR << 8) | VT_VERSION_PATCH)

#if defined(_WIN32) || defined(__CYGWIN__)
#define VT_EXTERN
#elif defined(__GNUC__) && __GNUC__ >= 4
#define VT_EXTERN __attribute__((visibility("default")))
#else
#define VT_EXTERN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* vt_version - the version of the library that is linked, as VT_VERSION_HEX.
 *
 * Compare with VT_VERSION_HEX to detect a header/library mismatch.
 * Thread-safety: safe from any thread.
 * Since: 0.1.0
 */
VT_EXTERN unsigned vt_version(void);

/* vt_version_string - the linked library's version as "MAJOR.MINOR.PATCH".
 *
 * Thread-safety: safe from any thread.
 * Ownership: the string is static.
 * Since: 0.1.0
 */
VT_EXTERN const char *vt_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
