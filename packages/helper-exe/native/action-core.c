/* action-core.c: applies an action list and execs (see action-core.h), for the C fork_before_exec
 * (libforkexec.c) and the helper program (fxhelper.c). Only async-signal-safe calls after the check. */
#define _GNU_SOURCE
#include "action-core.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

/* core, cpu, data, fsize, nofile, stack, as, nproc, memlock, rss: the order of core's RLIMIT_RESOURCES. */
static int fx_rlimit_native(uint32_t index) {
  switch (index) {
    case 0: return RLIMIT_CORE;
    case 1: return RLIMIT_CPU;
    case 2: return RLIMIT_DATA;
    case 3: return RLIMIT_FSIZE;
    case 4: return RLIMIT_NOFILE;
    case 5: return RLIMIT_STACK;
    case 6: return RLIMIT_AS;
#ifdef RLIMIT_NPROC
    case 7: return RLIMIT_NPROC;
#endif
#ifdef RLIMIT_MEMLOCK
    case 8: return RLIMIT_MEMLOCK;
#endif
#ifdef RLIMIT_RSS
    case 9: return RLIMIT_RSS;
#endif
    default: return -1;
  }
}

uint32_t fx_u32(struct fx_cursor *c) {
  if (c->bad || c->end - c->p < 4) {
    c->bad = 1;
    return 0;
  }
  uint32_t v = fx_get32(c->p);
  c->p += 4;
  return v;
}

int32_t fx_i32(struct fx_cursor *c) {
  uint32_t v = fx_u32(c);
  return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static uint64_t fx_u64(struct fx_cursor *c) {
  uint64_t lo = fx_u32(c);
  return lo | (uint64_t)fx_u32(c) << 32;
}

const char *fx_str(struct fx_cursor *c) {
  uint32_t n = fx_u32(c);
  if (c->bad || (size_t)(c->end - c->p) < (size_t)n + 1 || c->p[n] != 0 || memchr(c->p, 0, n) != NULL) {
    c->bad = 1;
    return "";
  }
  const char *s = (const char *)c->p;
  c->p += n + 1;
  return s;
}

/* Signal lists are read straight from the buffer when applied: no copies. */
static int fx_siglist(struct fx_cursor *c, struct fx_cursor *list) {
  uint32_t n = fx_u32(c);
  *list = *c;
  if (c->bad || n > 4096 || (size_t)(c->end - c->p) < (size_t)n * 4) {
    c->bad = 1;
    return 0;
  }
  c->p += (size_t)n * 4;
  return (int)n;
}


int fx_close_range(unsigned lo, unsigned hi) {
  if (lo > hi) return 0;
#if defined(__linux__) && defined(SYS_close_range)
  if (syscall(SYS_close_range, lo, hi, 0) == 0) return 0;
  if (errno != ENOSYS) return errno;
#endif
  struct rlimit rl;
  unsigned max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1u << 20)) max = (unsigned)rl.rlim_cur;
  for (unsigned fd = lo; fd <= hi && fd < max; fd++) close((int)fd);
  return 0;
}

/* closefrom(low) that spares keep (the close-on-exec report channel, gone at exec anyway). */
static int fx_closefrom(int low, int keep) {
  if (keep >= low) {
    int err = keep > low ? fx_close_range((unsigned)low, (unsigned)keep - 1) : 0;
    return err ? err : fx_close_range((unsigned)keep + 1, ~0u);
  }
  return fx_close_range((unsigned)low, ~0u);
}

/* Closes every fd from low to high but the n listed in keep (and the report channel, keep_fd): the ranges between
 * them, in ascending order. keep holds at most FX_MAX_KEEP (the decoder checked), read from the buffer. */
static int fx_closerange(int low, int high, struct fx_cursor keep, int n, int keep_fd) {
  int spared[FX_MAX_KEEP + 1], count = 0;
  for (int k = 0; k <= n; k++) {
    int fd = k < n ? fx_i32(&keep) : keep_fd;
    if (fd < low || fd > high) continue;
    int at = count++;
    for (; at > 0 && spared[at - 1] > fd; at--) spared[at] = spared[at - 1];
    spared[at] = fd;
  }
  for (int k = 0; k <= count && low <= high; k++) {
    int end = k < count ? spared[k] - 1 : high;
    if (end >= low) {
      int err = fx_close_range((unsigned)low, (unsigned)end);
      if (err) return err;
    }
    if (k < count) low = spared[k] + 1;
  }
  return 0;
}

int fx_disposition(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL) == 0 ? 0 : errno;
}

/* Sets each listed signal (0: every catchable one) to handler. */
static int fx_signals(struct fx_cursor *list, int n, void (*handler)(int)) {
  for (int i = 0; i < n; i++) {
    int sig = fx_i32(list);
    if (sig == 0) {
      for (int s = 1; s < FX_NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) fx_disposition(s, handler); /* EINVAL for libc-reserved signals */
    } else {
      int err = fx_disposition(sig, handler);
      if (err) return err;
    }
  }
  return 0;
}

static int fx_dup2(int from, int to) {
  if (from == to) { /* posix_spawn_file_actions_adddup2 onto itself clears close-on-exec (the kernel's dup2 would not) */
    int flags = fcntl(from, F_GETFD);
    if (flags < 0 || fcntl(from, F_SETFD, flags & ~FD_CLOEXEC) < 0) return errno;
    return 0;
  }
  return dup2(from, to) < 0 ? errno : 0;
}

int fx_open(int fd, const char *path, int flags, mode_t mode) {
  int opened = open(path, flags, mode);
  if (opened < 0) return errno;
  if (opened == fd) return 0;
  int err = dup2(opened, fd) < 0 ? errno : 0;
  close(opened);
  return err;
}

static int fx_setrlimit(int resource, uint64_t soft, uint64_t hard) {
  if (resource < 0) return EINVAL;
  struct rlimit rl;
  rl.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)soft;
  rl.rlim_max = hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)hard;
  return setrlimit(resource, &rl) == 0 ? 0 : errno;
}

/* Credentials of this process only. glibc's setuid/setgid/setgroups tell every thread of the process to change too,
 * walking the thread list, which a CLONE_VM child shares with its parent: the raw system calls, as posix_spawn does. */
#if defined(__linux__) && defined(SYS_setuid32) /* 32-bit ids where the plain calls take 16-bit ones (i386, arm) */
#define fx_setuid(uid) syscall(SYS_setuid32, uid)
#define fx_setgid(gid) syscall(SYS_setgid32, gid)
#define fx_setgroups(n, groups) syscall(SYS_setgroups32, n, groups)
#define fx_setreuid(r, e) syscall(SYS_setreuid32, r, e)
#define fx_setregid(r, e) syscall(SYS_setregid32, r, e)
#define fx_setresuid(r, e, s) syscall(SYS_setresuid32, r, e, s)
#define fx_setresgid(r, e, s) syscall(SYS_setresgid32, r, e, s)
#elif defined(__linux__) && defined(SYS_setuid)
#define fx_setuid(uid) syscall(SYS_setuid, uid)
#define fx_setgid(gid) syscall(SYS_setgid, gid)
#define fx_setgroups(n, groups) syscall(SYS_setgroups, n, groups)
#define fx_setreuid(r, e) syscall(SYS_setreuid, r, e)
#define fx_setregid(r, e) syscall(SYS_setregid, r, e)
#define fx_setresuid(r, e, s) syscall(SYS_setresuid, r, e, s)
#define fx_setresgid(r, e, s) syscall(SYS_setresgid, r, e, s)
#else
#define fx_setuid setuid
#define fx_setgid setgid
#define fx_setgroups setgroups
#define fx_setreuid setreuid
#define fx_setregid setregid
#if defined(__APPLE__) /* no setresuid: the action fails, which takes the caller's slow path */
#define fx_setresuid(r, e, s) (errno = ENOSYS, -1)
#define fx_setresgid(r, e, s) (errno = ENOSYS, -1)
#else
#define fx_setresuid setresuid
#define fx_setresgid setresgid
#endif
#endif

/* One decoded record; strings and lists point into the buffer. */
struct fx_action {
  uint32_t op;
  int32_t fd, fd2; /* the fd the record names (dup2's from), dup2's to */
  uint32_t value;  /* open's flags, umask, pgid, gid, uid, nice increment, rlimit resource */
  uint64_t soft, hard; /* rlimits; open's mode in soft */
  const char *path;
  uint32_t ids[3]; /* setre*id, setres*id: real, effective, saved */
  struct fx_cursor list; /* signals or groups */
  int n;
};

/* Reads the record at c into a; sets c->bad when it is malformed. */
static void fx_decode(struct fx_cursor *c, struct fx_action *a) {
  memset(a, 0, sizeof *a);
  a->fd = a->fd2 = -1;
  a->op = fx_u32(c);
  switch (a->op) {
    case FX_DUP2:
      a->fd = fx_i32(c);
      a->fd2 = fx_i32(c);
      if (a->fd < 0 || a->fd2 < 0) c->bad = 1;
      break;
    case FX_CLOSE:
    case FX_CLOSEFROM:
    case FX_CHECKFD:
    case FX_FOREGROUND:
      a->fd = fx_i32(c);
      if (a->fd < 0) c->bad = 1;
      break;
    case FX_FCHDIR: /* a negative fd fails when applied (EBADF), as fchdir does */
      a->fd = fx_i32(c);
      break;
    case FX_OPEN:
      a->fd = fx_i32(c);
      a->value = fx_u32(c); /* flags */
      a->soft = fx_u32(c);  /* mode */
      a->path = fx_str(c);
      if (a->fd < 0) c->bad = 1;
      break;
    case FX_CHDIR:
      a->path = fx_str(c);
      break;
    case FX_SETSID:
      break;
    case FX_SETPGID:
    case FX_UMASK:
    case FX_SETGID:
    case FX_SETUID:
    case FX_NICE:
      a->value = fx_u32(c);
      break;
    case FX_SIGDEFAULT:
    case FX_SIGIGNORE:
    case FX_SIGMASK:
    case FX_SIGBLOCK:
    case FX_SIGUNBLOCK:
      a->n = fx_siglist(c, &a->list);
      break;
    case FX_CLOSERANGE: {
      a->fd = fx_i32(c);
      a->fd2 = -1; /* not an fd it opens: the report channel need not go above the range, which spares it */
      a->value = (uint32_t)fx_i32(c);
      uint32_t count = fx_u32(c);
      a->list = *c;
      if (c->bad || a->fd < 0 || count > FX_MAX_KEEP || (size_t)(c->end - c->p) < (size_t)count * 4) c->bad = 1;
      else c->p += (size_t)count * 4;
      a->n = (int)count;
      break;
    }
    case FX_SETGROUPS: {
      uint32_t count = fx_u32(c);
      a->list = *c;
      if (c->bad || count > FX_MAX_GROUPS || (size_t)(c->end - c->p) < (size_t)count * 4) c->bad = 1;
      else c->p += (size_t)count * 4;
      a->n = (int)count;
      break;
    }
    case FX_SETRESUID:
    case FX_SETRESGID:
      a->ids[0] = fx_u32(c);
      a->ids[1] = fx_u32(c);
      a->ids[2] = fx_u32(c);
      break;
    case FX_SETCTTY:
    case FX_SETFD:
      a->fd = fx_i32(c);
      a->value = (uint32_t)fx_i32(c);
      if (a->fd < 0) c->bad = 1;
      break;
    case FX_SETREUID:
    case FX_SETREGID:
      a->ids[0] = fx_u32(c);
      a->ids[1] = fx_u32(c);
      break;
    case FX_SETRLIMIT:
    case FX_SETRLIMIT_BY_NAME: {
      int32_t resource = fx_i32(c);
      a->soft = fx_u64(c);
      a->hard = fx_u64(c);
      if (a->op == FX_SETRLIMIT_BY_NAME) resource = fx_rlimit_native((uint32_t)resource);
      a->value = (uint32_t)resource;
      break;
    }
    default:
      c->bad = 1;
  }
}

int fx_check_actions(const unsigned char *buf, size_t len, int *index, int *maxfd) {
  struct fx_cursor c = {buf, buf + len, 0};
  int top = -1;
  for (int i = 0; c.p < c.end; i++) {
    struct fx_action a;
    *index = i;
    fx_decode(&c, &a);
    if (c.bad) return EPROTO;
    if (a.op != FX_CLOSEFROM && a.op != FX_CLOSERANGE && a.fd > top) top = a.fd;
    if (a.fd2 > top) top = a.fd2;
  }
  *maxfd = top;
  return 0;
}

int fx_open_after(const unsigned char *buf, size_t len, int fd, int open_before) {
  struct fx_cursor c = {buf, buf + len, 0};
  int open = open_before;
  while (c.p < c.end) {
    struct fx_action a;
    fx_decode(&c, &a);
    if (c.bad) break;
    if ((a.op == FX_DUP2 && a.fd2 == fd) || (a.op == FX_OPEN && a.fd == fd)) open = 1;
    else if ((a.op == FX_CLOSE && a.fd == fd) || (a.op == FX_CLOSEFROM && fd >= a.fd)) open = 0;
    else if (a.op == FX_CLOSERANGE && fd >= a.fd && fd <= (int)a.value) {
      int kept = 0;
      for (int k = 0; k < a.n; k++) kept |= fx_i32(&a.list) == fd;
      if (!kept) open = 0;
    }
  }
  return open;
}

/* Runs one decoded record: 0 or an errno value. */
static int fx_apply(const struct fx_action *a, int keep_fd) {
  struct fx_cursor list = a->list;
  switch (a->op) {
    case FX_DUP2:
      return fx_dup2(a->fd, a->fd2);
    case FX_CLOSE: /* like posix_spawn: closing a closed fd is fine */
      return close(a->fd) < 0 && errno != EBADF ? errno : 0;
    case FX_OPEN:
      return fx_open(a->fd, a->path, (int)a->value, (mode_t)a->soft);
    case FX_CHDIR:
      return chdir(a->path) < 0 ? errno : 0;
    case FX_FCHDIR:
      return fchdir(a->fd) < 0 ? errno : 0;
    case FX_SETSID:
      return setsid() < 0 ? errno : 0;
    case FX_SETPGID:
      return setpgid(0, (pid_t)a->value) < 0 ? errno : 0;
    case FX_UMASK:
      umask((mode_t)a->value & 0777);
      return 0;
    case FX_SIGDEFAULT:
    case FX_SIGIGNORE:
      return fx_signals(&list, a->n, a->op == FX_SIGDEFAULT ? SIG_DFL : SIG_IGN);
    case FX_SIGMASK:
    case FX_SIGBLOCK:
    case FX_SIGUNBLOCK: {
      /* the child starts with the parent's mask, as a forked child would: block and unblock change that one */
      sigset_t set;
      sigemptyset(&set);
      for (int k = 0; k < a->n; k++)
        if (sigaddset(&set, fx_i32(&list)) < 0) return errno;
      int how = a->op == FX_SIGMASK ? SIG_SETMASK : a->op == FX_SIGBLOCK ? SIG_BLOCK : SIG_UNBLOCK;
      return sigprocmask(how, &set, NULL) < 0 ? errno : 0;
    }
    case FX_CLOSEFROM:
      return fx_closefrom(a->fd, keep_fd);
    case FX_CLOSERANGE:
      return fx_closerange(a->fd, (int)a->value, list, a->n, keep_fd);
    case FX_SETGROUPS: {
      gid_t groups[FX_MAX_GROUPS];
      for (int k = 0; k < a->n; k++) groups[k] = (gid_t)fx_u32(&list);
      return fx_setgroups((size_t)a->n, groups) < 0 ? errno : 0;
    }
    case FX_SETGID:
      return fx_setgid((gid_t)a->value) < 0 ? errno : 0;
    case FX_SETUID:
      return fx_setuid((uid_t)a->value) < 0 ? errno : 0;
    case FX_SETREUID:
      return fx_setreuid((uid_t)a->ids[0], (uid_t)a->ids[1]) < 0 ? errno : 0;
    case FX_SETREGID:
      return fx_setregid((gid_t)a->ids[0], (gid_t)a->ids[1]) < 0 ? errno : 0;
    case FX_SETRESUID:
      return fx_setresuid((uid_t)a->ids[0], (uid_t)a->ids[1], (uid_t)a->ids[2]) < 0 ? errno : 0;
    case FX_SETRESGID:
      return fx_setresgid((gid_t)a->ids[0], (gid_t)a->ids[1], (gid_t)a->ids[2]) < 0 ? errno : 0;
    case FX_SETCTTY:
#ifdef TIOCSCTTY
      return ioctl(a->fd, TIOCSCTTY, (int)a->value) < 0 ? errno : 0;
#else
      return ENOTSUP;
#endif
    case FX_FOREGROUND:
      return tcsetpgrp(a->fd, getpgrp()) < 0 ? errno : 0;
    case FX_SETFD: /* a closed fd fails (EBADF), as fcntl does */
      return fcntl(a->fd, F_SETFD, (int)a->value) < 0 ? errno : 0;
    case FX_SETRLIMIT:
    case FX_SETRLIMIT_BY_NAME:
      return fx_setrlimit((int)a->value, a->soft, a->hard);
    case FX_NICE:
      errno = 0;
      return nice((int)a->value) == -1 && errno != 0 ? errno : 0;
    case FX_CHECKFD:
      return fcntl(a->fd, F_GETFD) < 0 ? errno : 0;
    default:
      return EPROTO;
  }
}

int fx_apply_actions(const unsigned char *buf, size_t len, int keep_fd, int *index) {
  struct fx_cursor c = {buf, buf + len, 0};
  for (int i = 0; c.p < c.end; i++) {
    struct fx_action a;
    *index = i;
    fx_decode(&c, &a);
    if (c.bad) return EPROTO;
    int err = fx_apply(&a, keep_fd);
    if (err) return err;
  }
  return 0;
}

int fx_move_above(int *fd, int above) {
  if (*fd > above) return 0;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, above + 1);
  if (moved < 0) return errno;
  close(*fd);
  *fd = moved;
  return 0;
}

static const char *fx_getenv(char *const envp[], const char *name) {
  size_t n = strlen(name);
  for (; envp && *envp; envp++)
    if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') return *envp + n + 1;
  return NULL;
}

/* execve of a file that is no binary and no #! script: run it with /bin/sh, like execvp. */
static void fx_exec_sh(const char *path, char *const argv[], char *const envp[], char **sh_argv) {
  if (!sh_argv) return;
  size_t i = 0;
  union {
    const char *in;
    char *out;
  } arg; /* exec's argv is char *const[] but never written; no cast, which -Wcast-qual builds warn about */
  arg.in = "/bin/sh";
  sh_argv[0] = arg.out;
  arg.in = path;
  sh_argv[1] = arg.out;
  if (argv[0])
    for (i = 1; argv[i]; i++) sh_argv[i + 1] = argv[i];
  sh_argv[i + 1] = NULL;
  execve("/bin/sh", sh_argv, envp);
}

int fx_exec(const char *file, char *const argv[], char *const envp[], int search, char *pathbuf, char **sh_argv) {
  if (!search) {
    execve(file, argv, envp);
    return errno;
  }
  return fx_exec_path(file, argv, envp, fx_getenv(envp, "PATH"), pathbuf, sh_argv);
}

int fx_exec_path(const char *file, char *const argv[], char *const envp[], const char *path, char *pathbuf,
                 char **sh_argv) {
  if (strchr(file, '/') != NULL) {
    execve(file, argv, envp);
    int err = errno;
    if (err == ENOEXEC) fx_exec_sh(file, argv, envp, sh_argv);
    return err;
  }
  if (*file == 0) return ENOENT;
  if (path == NULL) path = "/bin:/usr/bin";
  size_t flen = strlen(file);
  int denied = 0, last = ENOENT;
  for (const char *p = path;; p++) {
    const char *start = p;
    while (*p && *p != ':') p++;
    size_t dlen = (size_t)(p - start);
    if (dlen + 1 + flen + 1 > FX_PATH_BUF) {
      last = ENAMETOOLONG;
    } else {
      if (dlen) memcpy(pathbuf, start, dlen);
      else pathbuf[dlen++] = '.'; /* an empty PATH entry means the current directory */
      pathbuf[dlen] = '/';
      memcpy(pathbuf + dlen + 1, file, flen + 1);
      execve(pathbuf, argv, envp);
      switch (errno) {
        case EACCES: denied = 1; /* fall through */
        case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: last = errno; break;
        case ENOEXEC: {
          int err = errno;
          fx_exec_sh(pathbuf, argv, envp, sh_argv);
          return err;
        }
        default: return errno;
      }
    }
    if (*p == 0) break;
  }
  return denied ? EACCES : last;
}
