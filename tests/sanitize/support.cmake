# Included by the top-level CMakeLists.txt when IFD_SANITIZE is ON.
# ifd_sanitize_support: tests/sanitize/sanitize_support.c with lsan.supp
# embedded, for every test program and the interop-fd tool (never the
# library). It exports dlclose and __lsan_default_suppressions from the
# executable so that they take precedence over the sanitizer runtime's and
# glibc's. docs/testing.md explains why.
set(IFD_LSAN_SUPP ${CMAKE_CURRENT_LIST_DIR}/lsan.supp)
set(IFD_LSAN_SUPP_C ${CMAKE_BINARY_DIR}/ifd_lsan_supp.c)
add_custom_command(OUTPUT ${IFD_LSAN_SUPP_C}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${IFD_LSAN_SUPP} -DOUTPUT=${IFD_LSAN_SUPP_C} -DNAME=ifd_lsan_supp
          -P ${CMAKE_CURRENT_LIST_DIR}/../../cmake/embed_file.cmake
  DEPENDS ${IFD_LSAN_SUPP} ${CMAKE_CURRENT_LIST_DIR}/../../cmake/embed_file.cmake)
add_library(ifd_sanitize_support OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitize_support.c ${IFD_LSAN_SUPP_C})
target_link_options(ifd_sanitize_support INTERFACE
  -Wl,--export-dynamic-symbol=dlclose -Wl,--export-dynamic-symbol=__lsan_default_suppressions)
target_link_libraries(ifd_sanitize_support INTERFACE ${CMAKE_DL_LIBS})
