# Included by the top-level CMakeLists.txt when IFD_SANITIZE is ON.
# ifd_sanitize_support: tests/sanitize/sanitize_support.c with lsan.supp
# embedded, linked into every executable of the project (test programs, the
# interop-fd tool; never the library: see the end of this file). It exports
# dlclose and __lsan_default_suppressions from the executable so that they
# take precedence over the sanitizer runtime's and glibc's. docs/testing.md
# explains why.
include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/embed.cmake)
ifd_embed(IFD_LSAN_SUPP_C NAME ifd_lsan_supp INPUT ${CMAKE_CURRENT_LIST_DIR}/lsan.supp)
add_library(ifd_sanitize_support OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitize_support.c ${IFD_LSAN_SUPP_C})
target_link_options(ifd_sanitize_support INTERFACE
  -Wl,--export-dynamic-symbol=dlclose -Wl,--export-dynamic-symbol=__lsan_default_suppressions)
target_link_libraries(ifd_sanitize_support INTERFACE ${CMAKE_DL_LIBS})

# Every executable of the project links it, whichever directory defines it:
# at the end of the top-level directory's configuration, walk all directories.
function(ifd_sanitize_link_executables dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "EXECUTABLE")
      target_link_libraries(${target} PRIVATE ifd_sanitize_support)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir IN LISTS subdirs)
    ifd_sanitize_link_executables(${subdir})
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL ifd_sanitize_link_executables ${CMAKE_SOURCE_DIR})
