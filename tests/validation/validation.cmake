# The Khronos validation layer in CTest (docs/validation.md). Included by
# tests/CMakeLists.txt and tools/CMakeLists.txt.
#
# ifd_add_validated_test(<test> COMMAND <command> [<arg>...]) registers
# <test>_validated: COMMAND (the same program and arguments as <test>) run by
# tests/validation/run_validated.sh, with <test>'s environment and timeout,
# its labels plus `validation`. Call it in the directory that made <test>.
# Release builds only: under ASan the layer (C++, with allocations of its own,
# and slow) would test the sanitizer, not our use of Vulkan.
include_guard(GLOBAL)

# The preloaded helper of run_validated.sh (layer_log_shim.c says why).
if(NOT IFD_SANITIZE AND NOT TARGET ifd_validation_log_shim)
  add_library(ifd_validation_log_shim SHARED ${CMAKE_CURRENT_LIST_DIR}/layer_log_shim.c)
  target_link_libraries(ifd_validation_log_shim PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
endif()

function(ifd_add_validated_test test)
  cmake_parse_arguments(V "" "" "COMMAND" ${ARGN})
  if(IFD_SANITIZE)
    return()
  endif()
  if(NOT V_COMMAND)
    message(FATAL_ERROR "ifd_add_validated_test(${test}): no COMMAND")
  endif()
  get_test_property(${test} LABELS labels)
  get_test_property(${test} ENVIRONMENT env)
  get_test_property(${test} TIMEOUT timeout)
  if(NOT labels OR NOT timeout)
    message(FATAL_ERROR "ifd_add_validated_test(${test}): no such test here, or it has no labels/timeout")
  endif()
  add_test(NAME ${test}_validated
           COMMAND sh ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/run_validated.sh
                   $<TARGET_FILE:ifd_validation_log_shim> ${V_COMMAND})
  set_tests_properties(${test}_validated PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${timeout}
                       LABELS "${labels};validation")
  if(env)
    set_tests_properties(${test}_validated PROPERTIES ENVIRONMENT "${env}")
  endif()
endfunction()
