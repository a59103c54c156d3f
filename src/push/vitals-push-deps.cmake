# vitals-push-deps.cmake - installed as vitals-push-deps.cmake: finds libcurl,
# which the push component's static library links, under the name the
# exported targets use, and sets vitals_push_DEPS_FOUND to FALSE when it is
# missing.
#
# SPDX-License-Identifier: MIT
include(CMakeFindDependencyMacro)
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    set(vitals_push_DEPS_FOUND FALSE)
    return()
endif()
if(NOT TARGET PkgConfig::VT_CURL)
    pkg_check_modules(VT_CURL QUIET IMPORTED_TARGET libcurl)
endif()
if(NOT TARGET PkgConfig::VT_CURL)
    set(vitals_push_DEPS_FOUND FALSE)
endif()
