/* fx_take_check: what the parent must know when it takes a warm helper for a spawn, in one call
 * (each call from JavaScript into native code costs more than the syscalls themselves): whether
 * the helper's socket hung up (the helper died an instant ago, unseen by the event loop), and the
 * process's effective uid and gid (a helper started under other credentials must not be used).
 * Built into dist/libfxtake.so by the package build and called through koffi. */
#define _GNU_SOURCE
#include <poll.h>
#include <unistd.h>

/* Writes the effective uid and gid to ids; returns 1 when the other end of socket fd is gone
 * (POLLHUP, POLLRDHUP or POLLERR; unread data does not count), else 0, also when poll fails. */
int fx_take_check(int fd, unsigned int ids[2]) {
  struct pollfd p = { fd, POLLRDHUP, 0 };
  ids[0] = geteuid();
  ids[1] = getegid();
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0;
}
