/* libFuzzer target for ifd_wire_parse (src/share/wire.h). Input: a control
 * byte (fuzz.h: fds received, truncation), then the message. The oracles,
 * beyond ASan and UBSan: a refusal is -EPROTO and names its rule; a message
 * that parses encodes back to exactly the bytes it came from (one encoding
 * per message, and the encoder accepts all the parser accepts). */
#include <errno.h>
#include <string.h>

#include "interop_fd/interop_fd.h"
#include "share/wire.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  ifd_wire_msg msg;
  int rc = ifd_wire_parse(data + 1, size - 1, IFD_FUZZ_NFDS(data[0]),
                          IFD_FUZZ_TRUNCATED(data[0]), &msg);
  if (rc != 0) {
    if (rc != -EPROTO || strncmp(ifd_last_error(), "wire: rule ", 11) != 0) __builtin_trap();
    return 0;
  }
  uint8_t again[IFD_WIRE_MAX_MESSAGE];
  int n = ifd_wire_encode(&msg, again, sizeof(again));
  if (n < 0 || (size_t)n != size - 1 || memcmp(again, data + 1, size - 1) != 0) __builtin_trap();
  return 0;
}
