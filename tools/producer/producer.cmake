# The demo's producer (tools/producer/producer.c): the network of
# tools/producer/cppn.h as a CUDA kernel (PTX generated from
# tools/producer/cuda/cppn.cu by scripts/regen-tool-ptx.sh and committed, so no
# CUDA toolkit is needed) and a Vulkan compute shader
# (tools/producer/shaders/cppn.comp, compiled here with glslangValidator). Both are
# embedded as C arrays by ifd_embed (cmake/embed.cmake). Included by
# tools/CMakeLists.txt.

set(IFD_TOOL_DIR ${CMAKE_CURRENT_LIST_DIR})
set(IFD_TOOL_ROOT ${CMAKE_CURRENT_LIST_DIR}/../..)
include(${IFD_TOOL_ROOT}/cmake/embed.cmake)

ifd_embed(IFD_CPPN_PTX_C NAME ifd_tool_cppn_ptx INPUT ${IFD_TOOL_DIR}/cuda/cppn.ptx)
ifd_embed(IFD_CPPN_SPV_C NAME ifd_tool_cppn_comp_spv INPUT ${IFD_TOOL_DIR}/shaders/cppn.comp GLSL)


# producer.c: the common part; producer_cuda.c and producer_vk.c: one backend
# each, behind the ops table of producer_backend.h. Public headers only.
add_library(ifd_tool_producer STATIC
  ${IFD_TOOL_DIR}/producer.c
  ${IFD_TOOL_DIR}/producer_cuda.c
  ${IFD_TOOL_DIR}/producer_vk.c
  ${IFD_TOOL_DIR}/cppn.c
  ${IFD_CPPN_PTX_C}
  ${IFD_CPPN_SPV_C})
target_include_directories(ifd_tool_producer PUBLIC ${IFD_TOOL_ROOT}/tools ${IFD_TOOL_ROOT}/include)
target_link_libraries(ifd_tool_producer PUBLIC ifd_kit interop_fd_static m)

# tests/test_producer.c: the producer on each backend against the C reference
# (cppn_pixel + cppn_encode), and the two backends against each other.
if(NOT DEFINED IFD_BUILD_TESTS OR IFD_BUILD_TESTS)
  add_executable(test_producer ${IFD_TOOL_ROOT}/tests/test_producer.c)
  target_link_libraries(test_producer PRIVATE ifd_tool_producer)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/xdg)
  foreach(mode vulkan cuda agree)
    if(mode STREQUAL "vulkan")
      set(label cpu)
    else()
      set(label gpu)
    endif()
    add_test(NAME producer_${mode} COMMAND test_producer ${mode})
    set_tests_properties(producer_${mode} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
      LABELS ${label} ENVIRONMENT "XDG_RUNTIME_DIR=${CMAKE_BINARY_DIR}/xdg")
  endforeach()
  if(IFD_SANITIZE)
    # AddressSanitizer's shadow gap collides with the CUDA driver's address
    # reservation (tests/cuda/README.md); libcuda's own leaks are suppressed by
    # tests/sanitize/lsan.supp.
    foreach(mode cuda agree)
      set_property(TEST producer_${mode} APPEND PROPERTY ENVIRONMENT
                   ASAN_OPTIONS=protect_shadow_gap=0)
    endforeach()
  endif()
endif()
