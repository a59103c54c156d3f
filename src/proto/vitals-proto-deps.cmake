# vitals-proto-deps.cmake - installed as vitals-proto-deps.cmake: finds the
# protobuf-c runtime that the proto component's targets link, under the name
# the exported targets use, and sets vitals_proto_DEPS_FOUND to FALSE when it
# is missing.
#
# SPDX-License-Identifier: MIT
include(CMakeFindDependencyMacro)
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    set(vitals_proto_DEPS_FOUND FALSE)
    return()
endif()
if(NOT TARGET PkgConfig::VT_PROTOBUF_C)
    pkg_check_modules(VT_PROTOBUF_C QUIET IMPORTED_TARGET libprotobuf-c)
endif()
if(NOT TARGET PkgConfig::VT_PROTOBUF_C)
    set(vitals_proto_DEPS_FOUND FALSE)
endif()
