/* vitals.h - the vitals core library: RED metrics for C and C++ services.
 *
 * Include this one header. Not thread-safe except where stated: every call on
 * metrics, series and registries is stated safe from any thread; option
 * structs and buffers belong to the caller.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef VITALS_H
#define VITALS_H

#include "vitals/alloc.h"
#include "vitals/collector.h"
#include "vitals/error.h"
#include "vitals/expose.h"
#include "vitals/metrics.h"
#include "vitals/process.h"
#include "vitals/registry.h"
#include "vitals/timer.h"
#include "vitals/version.h"
#include "vitals/visit.h"

#endif
