# VitalsSanitizers.cmake - build every target with the sanitizers named in
# VITALS_SANITIZE ("address;undefined", "thread", ...).
#
# Sanitizers must cover the whole program, so the flags go to every target of
# the directory tree (add_compile_options/add_link_options) rather than to one
# target's interface. VITALS_SANITIZER_FLAGS keeps them for builds that run
# outside this tree, such as the consumer test's separate project.
#
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)

set(VITALS_SANITIZER_FLAGS "")
if(VITALS_SANITIZE)
    if("thread" IN_LIST VITALS_SANITIZE AND "address" IN_LIST VITALS_SANITIZE)
        message(FATAL_ERROR "VITALS_SANITIZE: thread and address cannot be combined")
    endif()
    list(JOIN VITALS_SANITIZE "," vt_san_list)
    set(VITALS_SANITIZER_FLAGS
        -fsanitize=${vt_san_list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    add_compile_options(${VITALS_SANITIZER_FLAGS})
    add_link_options(-fsanitize=${vt_san_list})
    message(STATUS "vitals: sanitizers ${vt_san_list}")

    # What the tests run with: stop at the first report, and say where.
    set(VITALS_SANITIZER_ENV
        "ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1"
        "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
        "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")
else()
    set(VITALS_SANITIZER_ENV "")
endif()
