/* The fuzz input's first byte: the fds "received" with the message (low
 * four bits, 0..15, past IFD_WIRE_MAX_FDS) and recvmsg's truncation flag
 * (bit 4); the message's bytes follow. */
#ifndef IFD_FUZZ_H
#define IFD_FUZZ_H

#define IFD_FUZZ_NFDS(b) ((uint32_t)(b) & 15u)
#define IFD_FUZZ_TRUNCATED(b) (((b) & 16u) != 0)
#define IFD_FUZZ_CONTROL(nfds) ((uint8_t)(nfds))

#endif
