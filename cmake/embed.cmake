# The one rule that turns a file into a C array (SPIR-V shaders, PTX kernels,
# the sanitizer's suppressions). Included by whichever directory embeds.
#
# ifd_embed(<out_var> NAME <symbol> INPUT <file> [GLSL [TARGET_ENV <env>]])
#   Adds a build rule for ${CMAKE_CURRENT_BINARY_DIR}/<symbol>.c, which
#   cmake/embed_file.cmake writes: `const char <symbol>[]` (the bytes plus a
#   NUL, 4-byte aligned) and `const unsigned long <symbol>_size`. Sets
#   <out_var> to that file, to be listed with a target's sources.
#   GLSL: INPUT is a GLSL shader (the stage comes from its extension), first
#   compiled to SPIR-V (<symbol>.spv, next to the .c) by glslangValidator with
#   --target-env <env> (default vulkan1.2); the SPIR-V is what is embedded.
#
# ifd_find_glslang(): looks up glslangValidator once, into the cache variable
#   IFD_GLSLANG_VALIDATOR (...-NOTFOUND where it is missing; a user can point
#   it at a binary). Only the parts of the project that compile GLSL call it,
#   so a build of the library alone never looks for it.
include_guard(GLOBAL)

macro(ifd_find_glslang)
  find_program(IFD_GLSLANG_VALIDATOR glslangValidator
               DOC "glslangValidator, to compile the tools' and tests' shaders to SPIR-V")
endmacro()

function(ifd_embed out_var)
  cmake_parse_arguments(E "GLSL" "NAME;INPUT;TARGET_ENV" "" ${ARGN})
  if(NOT E_NAME OR NOT E_INPUT OR E_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "ifd_embed(${out_var}): needs NAME <symbol> and INPUT <file>, "
                        "and takes only GLSL [TARGET_ENV <env>] besides "
                        "(unparsed: ${E_UNPARSED_ARGUMENTS})")
  endif()
  if(E_TARGET_ENV AND NOT E_GLSL)
    message(FATAL_ERROR "ifd_embed(${out_var}): TARGET_ENV without GLSL")
  endif()
  set(input ${E_INPUT})
  if(E_GLSL)
    ifd_find_glslang()
    if(NOT IFD_GLSLANG_VALIDATOR)
      message(FATAL_ERROR "glslangValidator not found: ${E_INPUT} is compiled to SPIR-V with "
                          "it. Install Debian's glslang-tools (scripts/install-deps.sh does), "
                          "pass -DIFD_GLSLANG_VALIDATOR=/path/to/glslangValidator, or leave "
                          "out what needs it (-DIFD_BUILD_TOOLS=OFF).")
    endif()
    if(NOT E_TARGET_ENV)
      set(E_TARGET_ENV vulkan1.2)
    endif()
    set(input ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.spv)
    file(RELATIVE_PATH shown ${CMAKE_SOURCE_DIR} ${E_INPUT})
    add_custom_command(OUTPUT ${input}
      COMMAND ${IFD_GLSLANG_VALIDATOR} -V --target-env ${E_TARGET_ENV} -o ${input} ${E_INPUT}
      DEPENDS ${E_INPUT}
      COMMENT "Compiling ${shown} to SPIR-V")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.c)
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_file.cmake)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${input} -DOUTPUT=${out} -DNAME=${E_NAME}
            -P ${script}
    DEPENDS ${input} ${script})
  set(${out_var} ${out} PARENT_SCOPE)
endfunction()
