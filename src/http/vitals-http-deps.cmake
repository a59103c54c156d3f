# vitals-http-deps.cmake - installed as vitals-http-deps.cmake: finds what the
# http component's targets link (libmicrohttpd, GnuTLS, zlib) under the names
# the exported targets use, and sets vitals_http_DEPS_FOUND to FALSE when one
# is missing. When the proto component is installed beside it (libvitals-http
# was built with protobuf), its targets are loaded first: the static http
# library links vitals::vitals_proto_static.
#
# SPDX-License-Identifier: MIT
include(CMakeFindDependencyMacro)
find_package(PkgConfig QUIET)
if(NOT PKG_CONFIG_FOUND)
    set(vitals_http_DEPS_FOUND FALSE)
    return()
endif()
foreach(_vt_pair "VT_MHD;libmicrohttpd" "VT_GNUTLS;gnutls" "VT_ZLIB;zlib")
    list(GET _vt_pair 0 _vt_prefix)
    list(GET _vt_pair 1 _vt_module)
    if(NOT TARGET PkgConfig::${_vt_prefix})
        pkg_check_modules(${_vt_prefix} QUIET IMPORTED_TARGET ${_vt_module})
    endif()
    if(NOT TARGET PkgConfig::${_vt_prefix})
        set(vitals_http_DEPS_FOUND FALSE)
    endif()
endforeach()
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/vitals-proto-targets.cmake" AND
   NOT TARGET vitals::vitals_proto)
    set(vitals_proto_DEPS_FOUND TRUE)
    include("${CMAKE_CURRENT_LIST_DIR}/vitals-proto-deps.cmake")
    if(vitals_proto_DEPS_FOUND)
        include("${CMAKE_CURRENT_LIST_DIR}/vitals-proto-targets.cmake")
    else()
        set(vitals_http_DEPS_FOUND FALSE)
    endif()
endif()
unset(_vt_pair)
unset(_vt_prefix)
unset(_vt_module)
