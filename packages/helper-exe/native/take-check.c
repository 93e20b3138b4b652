/* fx_take_check: what the parent must know when it takes a warm helper for a spawn, in one call
 * (each call from JavaScript into native code costs more than the syscalls themselves): whether
 * the helper's socket hung up (the helper died an instant ago, unseen by the event loop); the
 * process's effective uid and gid (a helper started under other credentials must not be used);
 * and whether libc's environ still holds the variables the request's environment was encoded from.
 * Built into dist/libfxtake.so by the package build and called through koffi. */
#define _GNU_SOURCE
#include <poll.h>
#include <stddef.h>
#include <unistd.h>

/* The process's environment: the same variable as the executable's (which process.env writes
 * through setenv), as a shared library's reference binds to the executable's copy first. */
extern char **environ;

enum { FX_HUNG_UP = 1, FX_ENVIRON_CHANGED = 2 };

/* The version of fx_take_check's arguments and answer: the package checks it when it binds the
 * library, so a library left from another build fails there instead of misreading the call. */
int fx_take_check_version(void) { return 2; }

/* Whether environ differs from `copy`, a NULL-terminated copy of its pointer array. glibc never
 * frees or rewrites a string it put in environ, so the same pointers mean the same variables. */
static int environ_changed(char *const *copy) {
  char **env = environ;
  if (!env) return copy[0] != NULL;
  for (size_t i = 0;; i++) {
    if (env[i] != copy[i]) return 1;
    if (!env[i]) return 0;
  }
}

/* Writes the effective uid and gid to ids. Returns FX_HUNG_UP when the other end of socket fd is
 * gone (POLLHUP, POLLRDHUP or POLLERR; unread data does not count; never for a negative fd or when
 * poll fails), plus FX_ENVIRON_CHANGED when environ_copy is given and environ no longer matches it. */
int fx_take_check(int fd, unsigned int ids[2], char *const *environ_copy) {
  struct pollfd p = { fd, POLLRDHUP, 0 };
  int result = 0;
  ids[0] = geteuid();
  ids[1] = getegid();
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)) != 0) result |= FX_HUNG_UP;
  if (environ_copy && environ_changed(environ_copy)) result |= FX_ENVIRON_CHANGED;
  return result;
}
