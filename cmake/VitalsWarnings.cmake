# VitalsWarnings.cmake - the warning set of vitals' own code, for any target.
#
# The flags are PRIVATE: they never reach a user's target through an exported
# interface. -Werror is added only when VITALS_WERROR is on (dev preset, CI).
#
# SPDX-License-Identifier: MIT
include_guard(GLOBAL)

# vitals_target_warnings(<target>...) - compile the targets' own sources with
# -Wall -Wextra -Wpedantic -Wshadow -Wconversion (and -Werror when asked).
function(vitals_target_warnings)
    foreach(target IN LISTS ARGN)
        if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
            target_compile_options(${target} PRIVATE
                -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
            if(VITALS_WERROR)
                target_compile_options(${target} PRIVATE -Werror)
            endif()
        endif()
    endforeach()
endfunction()
