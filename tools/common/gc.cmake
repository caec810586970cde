# The GPU client kit's EGL and CUDA parts (tools/common/egl_kit.c: headless
# EGL/GL by device UUID; tools/common/cuda_kit.c: the tools' own libcuda
# table), with tool_error.c, as the static library ifd_kit_gc for the tools
# and the tests. Both open their driver library with dlopen at run time, so
# nothing here links libEGL or libcuda; only EGL's headers are needed.
# Included by tools/CMakeLists.txt, tools/producer/producer.cmake and
# tests/CMakeLists.txt; the first include defines the target.
if(NOT TARGET ifd_kit_gc)
  set(IFD_KIT_GC_DIR ${CMAKE_CURRENT_LIST_DIR})
  find_path(IFD_KIT_EGL_INCLUDE_DIR EGL/egl.h REQUIRED)
  add_library(ifd_kit_gc STATIC
    ${IFD_KIT_GC_DIR}/egl_kit.c
    ${IFD_KIT_GC_DIR}/cuda_kit.c
    ${IFD_KIT_GC_DIR}/tool_error.c)
  target_include_directories(ifd_kit_gc PUBLIC ${IFD_KIT_GC_DIR}/.. ${IFD_KIT_GC_DIR}/../../include)
  target_include_directories(ifd_kit_gc PRIVATE ${IFD_KIT_EGL_INCLUDE_DIR})
  target_link_libraries(ifd_kit_gc PUBLIC ${CMAKE_DL_LIBS} Threads::Threads)
endif()
