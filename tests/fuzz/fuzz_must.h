/* fuzz_must.h - the property check every fuzz target uses: a failed property
 * prints itself and aborts, which libFuzzer reports as a crash with the input.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VT_FUZZ_MUST_H
#define VT_FUZZ_MUST_H

#include <stdio.h>
#include <stdlib.h>

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
