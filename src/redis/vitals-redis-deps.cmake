# vitals-redis-deps.cmake - installed as vitals-redis-deps.cmake: finds
# hiredis under the name the exported targets use (PkgConfig::VT_HIREDIS) and
# sets vitals_redis_DEPS_FOUND to FALSE when it is missing.
#
# SPDX-License-Identifier: MIT
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    set(vitals_redis_DEPS_FOUND FALSE)
    return()
endif()
if(NOT TARGET PkgConfig::VT_HIREDIS)
    pkg_check_modules(VT_HIREDIS QUIET IMPORTED_TARGET hiredis)
endif()
if(NOT TARGET PkgConfig::VT_HIREDIS)
    set(vitals_redis_DEPS_FOUND FALSE)
endif()
