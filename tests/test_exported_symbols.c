/* The shared library exports exactly the symbols listed in
 * exported_symbols.txt: a new, renamed or leaked internal symbol fails here. */
#include "test_util.h"

int main(void) {
  char cmd[4096], line[256];
  snprintf(cmd, sizeof(cmd),
           "nm -D --defined-only '%s' | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort | "
           "diff -u '%s' - ", IFD_LIBRARY_PATH, IFD_SYMBOLS_FILE);
  FILE *p = popen(cmd, "r");
  REQUIRE(p != NULL);
  int lines = 0;
  while (fgets(line, sizeof(line), p)) {
    fputs(line, stderr);
    lines++;
  }
  int status = pclose(p);
  if (status != 0 && lines == 0) SKIP("nm or diff is not available");
  CHECK(lines == 0);
  return test_finish("exported_symbols");
}
