# cmake -DINPUT=file -DOUTPUT=file.c -DNAME=symbol -P embed_file.cmake
# Writes a C file defining `const char NAME[]` (the input's bytes plus a NUL,
# 4-byte aligned so SPIR-V can be passed as uint32_t words) and
# `const unsigned long NAME_size` (the input's size, without the NUL).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "(char)0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}" "/* generated from ${INPUT} */\n_Alignas(4) const char ${NAME}[] = {${bytes}0x00};\nconst unsigned long ${NAME}_size = ${size};\n")
