/* action-core.h: the one place that applies an action list and execs, shared by libforkexec.c (the C
 * fork_before_exec) and fxhelper.c (the pre-started helper); action-core.c implements it. Everything that
 * runs in a child uses only async-signal-safe calls: the library's child shares the parent's memory
 * (vfork-style), so no malloc, no stdio, no locks.
 *
 * Action encoding (also the wire format of the helper protocol): a sequence of records, each a
 * u32 op followed by its fields; integers are little-endian 32-bit (u64 for rlimits, all ones =
 * RLIM_INFINITY); a string is u32 length, the bytes, and a NUL; a signal list is u32 count then
 * i32 signal numbers (0 = every signal). */
#ifndef FORKEXEC_ACTION_CORE_H
#define FORKEXEC_ACTION_CORE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef NSIG
#define FX_NSIG NSIG
#else
#define FX_NSIG 65
#endif

enum fx_op {
  FX_DUP2 = 1,          /* i32 from, i32 to; from == to clears close-on-exec (posix_spawn_file_actions_adddup2) */
  FX_CLOSE,             /* i32 fd */
  FX_OPEN,              /* i32 fd, i32 flags, u32 mode, str path */
  FX_CHDIR,             /* str path */
  FX_FCHDIR,            /* i32 fd */
  FX_SETSID,            /* - */
  FX_SETPGID,           /* i32 pgid */
  FX_UMASK,             /* u32 mask */
  FX_SIGDEFAULT,        /* signal list */
  FX_SIGIGNORE,         /* signal list */
  FX_SIGMASK,           /* signal list: the whole new mask */
  FX_CLOSEFROM,         /* i32 lowfd */
  FX_SETGROUPS,         /* u32 n, u32 gid[n] */
  FX_SETGID,            /* u32 gid */
  FX_SETUID,            /* u32 uid */
  FX_SETRLIMIT,         /* i32 native RLIMIT_*, u64 soft, u64 hard */
  FX_SETRLIMIT_BY_NAME, /* u32 index into core's RLIMIT_RESOURCES order, u64 soft, u64 hard (the wire's portable form) */
  FX_NICE,              /* i32 inc */
  FX_CHECKFD,           /* i32 fd: fails with EBADF unless fd is open, changes nothing (POSIX dup2(fd, fd)) */
  FX_SIGBLOCK,          /* signal list: added to the mask (sigprocmask SIG_BLOCK) */
  FX_SIGUNBLOCK,        /* signal list: removed from the mask (sigprocmask SIG_UNBLOCK) */
  FX_SETREUID,          /* u32 ruid, u32 euid (all ones: unchanged, as (uid_t)-1) */
  FX_SETREGID,          /* u32 rgid, u32 egid */
  FX_SETRESUID,         /* u32 ruid, u32 euid, u32 suid */
  FX_SETRESGID,         /* u32 rgid, u32 egid, u32 sgid */
  FX_SETCTTY,           /* i32 fd, i32 arg: ioctl(fd, TIOCSCTTY, arg), the terminal on fd becomes the controlling one */
  FX_SETFD,             /* i32 fd, i32 flags: fcntl(fd, F_SETFD, flags), FD_CLOEXEC set or cleared */
  FX_FOREGROUND,        /* i32 fd: tcsetpgrp(fd, getpgrp()), the child's group becomes the terminal's foreground one */
  FX_CLOSERANGE,        /* i32 low, i32 high, u32 n, i32 keep[n]: every fd from low to high (inclusive) closed but keep's */
  FX_OP_END
};

#define FX_MAX_GROUPS 1024
#define FX_MAX_KEEP 64 /* the fds a closed range may spare */
#define FX_PATH_BUF 4096

static inline void fx_put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t fx_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A bounds-checked reader over an encoded buffer: any overrun sets bad and yields zeros. */
struct fx_cursor {
  const unsigned char *p, *end;
  int bad;
};

uint32_t fx_u32(struct fx_cursor *c);
int32_t fx_i32(struct fx_cursor *c);
const char *fx_str(struct fx_cursor *c); /* "" and bad set when malformed */

/* Checks every record of buf without running any: 0, or EPROTO for a malformed buffer with *index at
 * the bad record. *maxfd gets the highest fd number the records name, so the caller can move its own
 * fds above it. Run it (in the parent) before fx_apply_actions. */
int fx_check_actions(const unsigned char *buf, size_t len, int *index, int *maxfd);
/* Is fd open after the records of buf (their dup2s, opens, closes and closefroms all succeeding), given whether it
 * is open before them? */
int fx_open_after(const unsigned char *buf, size_t len, int fd, int open_before);
/* Runs the records of a checked buffer in order (async-signal-safe). Returns 0 or the first failure's
 * errno value, with *index at the failing record. keep_fd survives closefrom (the caller's
 * close-on-exec report channel). */
int fx_apply_actions(const unsigned char *buf, size_t len, int keep_fd, int *index);

/* Moves *fd above `above` (close-on-exec) when an action could reach it. */
int fx_move_above(int *fd, int above);
/* close_range(lo, hi), or a close loop where the kernel lacks it. */
int fx_close_range(unsigned lo, unsigned hi);
int fx_disposition(int sig, void (*handler)(int));
/* open(path) placed on fd. */
int fx_open(int fd, const char *path, int flags, mode_t mode);

/*
 * execve(file), or with search an execvp-style lookup in envp's PATH (default /bin:/usr/bin)
 * using pathbuf (FX_PATH_BUF bytes) and sh_argv (argc + 2 slots) prepared by the parent; without
 * sh_argv (NULL), a file the kernel cannot run is never handed to /bin/sh: ENOEXEC is returned.
 * Returns only on failure, with the errno value.
 */
int fx_exec(const char *file, char *const argv[], char *const envp[], int search, char *pathbuf, char **sh_argv);
/* The search of fx_exec in path (a PATH value; NULL: /bin:/usr/bin), whatever envp's PATH says: execvpe's. */
int fx_exec_path(const char *file, char *const argv[], char *const envp[], const char *path, char *pathbuf,
                 char **sh_argv);

#endif
