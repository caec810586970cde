# The library alone (IFD_BUILD_TOOLS, IFD_BUILD_TESTS and IFD_BUILD_EXAMPLES
# OFF) configures, builds and installs with a C compiler, CMake and Vulkan's
# headers only. Run by CTest (library_only_build):
#   cmake -DSOURCE=<source dir> -DWORK=<scratch dir> -DCC=<C compiler>
#         -DGENERATOR=<generator> [-DMAKE_PROGRAM=<make/ninja>] -P library_only.cmake
# Checks:
# - configure and build succeed into WORK (the source tree is only read);
# - CMakeCache.txt has no entry from a look-up of what only the tools and
#   tests need (pkg-config, epoxy, EGL, GL, libpng, GLFW, glslangValidator,
#   glslc, CUDA/nvcc). find_program/find_library/find_path cache what they
#   look for, found or not, so a look-up leaves its name there;
# - decoys named glslangValidator, glslc, pkg-config and nvcc, first on PATH,
#   are never run (each would leave a file behind);
# - the install has both libraries, the headers, interop_fd.pc and the CMake
#   package files.
cmake_minimum_required(VERSION 3.20)
foreach(var SOURCE WORK CC GENERATOR)
  if(NOT ${var})
    message(FATAL_ERROR "library_only.cmake: -D${var}=... missing")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/decoys)
foreach(tool glslangValidator glslc pkg-config nvcc)
  file(WRITE ${WORK}/decoys/${tool} "#!/bin/sh\ntouch '${WORK}/ran-${tool}'\nexit 1\n")
  file(CHMOD ${WORK}/decoys/${tool}
       PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE)
endforeach()
set(ENV{PATH} "${WORK}/decoys:$ENV{PATH}")
unset(ENV{PKG_CONFIG_PATH})

function(run what log)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/${log}.log
                  ERROR_FILE ${WORK}/${log}.err)
  if(NOT rc EQUAL 0)
    file(READ ${WORK}/${log}.log out)
    file(READ ${WORK}/${log}.err err)
    message(FATAL_ERROR "FAIL: ${what} (exit ${rc})\n${out}\n${err}")
  endif()
endfunction()

set(make_program)
if(MAKE_PROGRAM)
  set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
# Debug (-O0): this checks what the build needs, not the optimizer; the
# project's own build already compiles the library with its flags.
run("configure the library alone" configure
    ${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/build -G ${GENERATOR} ${make_program}
    -DCMAKE_C_COMPILER=${CC} -DCMAKE_BUILD_TYPE=Debug
    -DIFD_BUILD_TOOLS=OFF -DIFD_BUILD_TESTS=OFF -DIFD_BUILD_EXAMPLES=OFF)

file(STRINGS ${WORK}/build/CMakeCache.txt entries REGEX "^[A-Za-z_][A-Za-z0-9_.-]*:")
set(looked_up)
foreach(entry IN LISTS entries)
  string(REGEX REPLACE ":.*" "" name "${entry}")
  string(TOUPPER "${name}" upper)
  if(upper MATCHES "GLSLANG|GLSLC|PKG_?CONFIG|PKGCFG|EPOXY|EGL|OPENGL|(^|_)GL_|PNG|GLFW|CUDA|NVCC")
    list(APPEND looked_up "${name}")
  endif()
endforeach()
if(looked_up)
  list(JOIN looked_up ", " looked_up)
  message(FATAL_ERROR "FAIL: configuring the library alone looked up ${looked_up} "
                      "(entries of ${WORK}/build/CMakeCache.txt)")
endif()

run("build the library alone" build ${CMAKE_COMMAND} --build ${WORK}/build)
run("install the library alone" install ${CMAKE_COMMAND} --install ${WORK}/build --prefix ${WORK}/prefix)

file(GLOB ran ${WORK}/ran-*)
if(ran)
  message(FATAL_ERROR "FAIL: the library-only build ran a decoy: ${ran}")
endif()

foreach(pattern libinterop_fd.so libinterop_fd.a interop_fd.pc interop_fdConfig.cmake
        interop_fdConfigVersion.cmake interop_fdTargets.cmake interop_fd/interop_fd.h
        interop_fd/vulkan.h interop_fd/gl.h)
  file(GLOB_RECURSE found ${WORK}/prefix/*/${pattern})
  if(NOT found)
    message(FATAL_ERROR "FAIL: the library-only install has no ${pattern} under ${WORK}/prefix")
  endif()
endforeach()
file(GLOB_RECURSE tools ${WORK}/prefix/bin/*)
if(tools)
  message(FATAL_ERROR "FAIL: the library-only install has programs: ${tools}")
endif()
message(STATUS "library_only_build: configured, built and installed with the tools, tests "
               "and examples off; nothing of theirs was looked up or run")
