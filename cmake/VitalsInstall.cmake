# VitalsInstall.cmake - install rules: headers, libraries, pkg-config files and
# the CMake package that find_package(vitals [COMPONENTS ...]) reads.
#
# Layout of the CMake package in <libdir>/cmake/vitals/:
#   vitals-config.cmake, vitals-config-version.cmake  the package
#   vitals-targets.cmake                              core: vitals::vitals, vitals::vitals_static
#   vitals-<comp>-targets.cmake                       one per installed component
#   vitals-<comp>-deps.cmake                          optional; finds the component's dependencies
# A component calls vitals_install_component() and, for its .pc file,
# vitals_install_pkgconfig(); the package config needs no change for it.
# pkg-config files locate the prefix from their own path (${pcfiledir}), so an
# install moved with `cmake --install --prefix` stays correct.
#
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(VITALS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/vitals" CACHE STRING
    "Where the vitals CMake package is installed, relative to the prefix")
mark_as_advanced(VITALS_INSTALL_CMAKEDIR)

# vitals_install_pkgconfig(<name> <template.pc.in>) - configure a .pc file and
# install it as <libdir>/pkgconfig/<name>.pc. The template may use
# @VT_PC_PREFIX@, @VT_PC_LIBDIR@, @VT_PC_INCLUDEDIR@ and @PROJECT_VERSION@.
function(vitals_install_pkgconfig name template)
    set(pcdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
    if(IS_ABSOLUTE "${pcdir}")
        set(VT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
    else()
        file(RELATIVE_PATH up "/vt-prefix/${pcdir}" "/vt-prefix")
        string(REGEX REPLACE "/$" "" up "${up}")
        set(VT_PC_PREFIX "\${pcfiledir}/${up}")
    endif()
    foreach(kind LIBDIR INCLUDEDIR)
        if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
            set(VT_PC_${kind} "${CMAKE_INSTALL_${kind}}")
        else()
            set(VT_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
        endif()
    endforeach()
    configure_file("${template}" "${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc" @ONLY)
    install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc"
            DESTINATION "${pcdir}" COMPONENT development)
endfunction()

# vitals_install_component(<comp> TARGETS <target>... [DEPENDENCIES <file.cmake>])
#
# Install a component's libraries and export them as vitals::<target> in
# vitals-<comp>-targets.cmake. DEPENDENCIES names a CMake file (find_dependency
# calls) that the package config runs before loading the targets.
function(vitals_install_component comp)
    cmake_parse_arguments(arg "" "DEPENDENCIES" "TARGETS" ${ARGN})
    if(NOT arg_TARGETS)
        message(FATAL_ERROR "vitals_install_component(${comp}): no TARGETS")
    endif()
    if(NOT VITALS_INSTALL)
        return()
    endif()
    install(TARGETS ${arg_TARGETS} EXPORT vitals-${comp}-targets
            RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime
            LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT runtime
                    NAMELINK_COMPONENT development
            ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT development
            INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
    install(EXPORT vitals-${comp}-targets NAMESPACE vitals::
            DESTINATION "${VITALS_INSTALL_CMAKEDIR}" COMPONENT development)
    if(arg_DEPENDENCIES)
        install(FILES "${arg_DEPENDENCIES}" DESTINATION "${VITALS_INSTALL_CMAKEDIR}"
                RENAME vitals-${comp}-deps.cmake COMPONENT development)
    endif()
endfunction()

# vitals_install_package() - the core's headers, libraries, pkg-config file and
# the package config. Called once, from the top-level CMakeLists.txt.
function(vitals_install_package)
    install(FILES "${PROJECT_SOURCE_DIR}/include/vitals.h"
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT development)
    file(GLOB core_headers "${PROJECT_SOURCE_DIR}/include/vitals/*.h")
    install(FILES ${core_headers}
            DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/vitals" COMPONENT development)

    install(TARGETS vitals vitals_static EXPORT vitals-targets
            RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime
            LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT runtime
                    NAMELINK_COMPONENT development
            ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT development
            INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
    install(EXPORT vitals-targets NAMESPACE vitals::
            DESTINATION "${VITALS_INSTALL_CMAKEDIR}" COMPONENT development)

    configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/vitals-config.cmake.in"
        "${PROJECT_BINARY_DIR}/cmake/vitals-config.cmake"
        INSTALL_DESTINATION "${VITALS_INSTALL_CMAKEDIR}")
    # While the major version is 0, a minor release may break the API.
    if(PROJECT_VERSION_MAJOR EQUAL 0)
        set(compat SameMinorVersion)
    else()
        set(compat SameMajorVersion)
    endif()
    write_basic_package_version_file("${PROJECT_BINARY_DIR}/cmake/vitals-config-version.cmake"
        VERSION "${PROJECT_VERSION}" COMPATIBILITY ${compat})
    install(FILES "${PROJECT_BINARY_DIR}/cmake/vitals-config.cmake"
                  "${PROJECT_BINARY_DIR}/cmake/vitals-config-version.cmake"
            DESTINATION "${VITALS_INSTALL_CMAKEDIR}" COMPONENT development)

    vitals_install_pkgconfig(vitals "${PROJECT_SOURCE_DIR}/cmake/vitals.pc.in")
endfunction()
