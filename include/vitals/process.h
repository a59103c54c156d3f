/* vitals/process.h - the process collector: saturation signals from Linux /proc.
 *
 * Writes, named as client_golang names them: process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds,
 * process_threads. On systems without /proc the collector emits nothing.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_PROCESS_H
#define VITALS_PROCESS_H

#include "vitals/collector.h"

#ifdef __cplusplus
extern "C" {
#endif

/* vt_process_collector_register - add the process collector to reg.
 * Returns: 0, VT_EDUPLICATE (already added, or a family uses one of the names),
 * VT_EINVAL, VT_ENOMEM.
 * Thread-safety: safe from any thread. Since: 0.1.0 */
VT_EXTERN int vt_process_collector_register(vt_registry_t *reg);

#ifdef __cplusplus
}
#endif
#endif
