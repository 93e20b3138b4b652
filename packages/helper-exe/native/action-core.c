/* action-core.c: the one place that applies an action list and execs. It is #included by
 * libforkexec.c (the C fork_before_exec) and fxhelper.c (the pre-started helper), never compiled
 * on its own. Everything that runs in a child uses only async-signal-safe calls: the library's
 * child shares the parent's memory (vfork-style), so no malloc, no stdio, no locks.
 *
 * Action encoding (also the wire format of the helper protocol): a sequence of records, each a
 * u32 op followed by its fields; integers are little-endian 32-bit (u64 for rlimits, all ones =
 * RLIM_INFINITY); a string is u32 length, the bytes, and a NUL; a signal list is u32 count then
 * i32 signal numbers (0 = every signal). */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#ifdef NSIG
#define FX_NSIG NSIG
#else
#define FX_NSIG 65
#endif

enum fx_op {
  FX_DUP2 = 1,     /* i32 from, i32 to */
  FX_CLOSE,        /* i32 fd */
  FX_OPEN,         /* i32 fd, i32 flags, u32 mode, str path */
  FX_CHDIR,        /* str path */
  FX_FCHDIR,       /* i32 fd */
  FX_SETSID,       /* - */
  FX_SETPGID,      /* i32 pgid */
  FX_UMASK,        /* u32 mask */
  FX_SIGDEFAULT,   /* signal list */
  FX_SIGIGNORE,    /* signal list */
  FX_SIGMASK,      /* signal list: the whole new mask */
  FX_CLOSEFROM,    /* i32 lowfd */
  FX_SETGROUPS,    /* u32 n, u32 gid[n] */
  FX_SETGID,       /* u32 gid */
  FX_SETUID,       /* u32 uid */
  FX_SETRLIMIT,    /* i32 native RLIMIT_*, u64 soft, u64 hard */
  FX_SETRLIMIT_BY_NAME, /* u32 index into fx_rlimit_names order, u64 soft, u64 hard (the wire's portable form) */
  FX_NICE,         /* i32 inc */
  FX_OP_END
};

#define FX_MAX_GROUPS 1024
#define FX_PATH_BUF 4096

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

static void fx_put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static uint32_t fx_get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A bounds-checked reader over an encoded buffer: any overrun sets bad and yields zeros. */
struct fx_cursor {
  const unsigned char *p, *end;
  int bad;
};

static uint32_t fx_u32(struct fx_cursor *c) {
  if (c->bad || c->end - c->p < 4) {
    c->bad = 1;
    return 0;
  }
  uint32_t v = fx_get32(c->p);
  c->p += 4;
  return v;
}

static int32_t fx_i32(struct fx_cursor *c) {
  uint32_t v = fx_u32(c);
  return v <= INT32_MAX ? (int32_t)v : -(int32_t)(~v) - 1;
}

static uint64_t fx_u64(struct fx_cursor *c) {
  uint64_t lo = fx_u32(c);
  return lo | (uint64_t)fx_u32(c) << 32;
}

static const char *fx_str(struct fx_cursor *c) {
  uint32_t n = fx_u32(c);
  if (c->bad || (size_t)(c->end - c->p) < (size_t)n + 1 || c->p[n] != 0 || memchr(c->p, 0, n) != NULL) {
    c->bad = 1;
    return "";
  }
  const char *s = (const char *)c->p;
  c->p += n + 1;
  return s;
}

/* Signal lists are read twice (check, then apply) straight from the buffer: no copies. */
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

static int fx_close_range(unsigned lo, unsigned hi) {
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

static int fx_disposition(int sig, void (*handler)(int)) {
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
  if (from == to) { /* dup2 onto itself is a no-op in the kernel: clear close-on-exec by hand */
    int flags = fcntl(from, F_GETFD);
    if (flags < 0 || fcntl(from, F_SETFD, flags & ~FD_CLOEXEC) < 0) return errno;
    return 0;
  }
  return dup2(from, to) < 0 ? errno : 0;
}

static int fx_open(int fd, const char *path, int flags, mode_t mode) {
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

/*
 * Runs the records of buf in order, or with run == 0 only checks them. Returns 0 or an errno
 * value (EPROTO for a malformed buffer); *index gets the failing record's position. *maxfd gets
 * the highest fd number the records name, so the caller can move its own fds above it.
 * keep_fd survives closefrom (it is the caller's close-on-exec report channel).
 */
static int fx_run_actions(const unsigned char *buf, size_t len, int run, int keep_fd, int *index, int *maxfd) {
  struct fx_cursor c = {buf, buf + len, 0};
  int top = -1;
  for (int i = 0; c.p < c.end; i++) {
    *index = i;
    uint32_t op = fx_u32(&c);
    int err = 0;
    struct fx_cursor list;
    int n;
    switch (op) {
      case FX_DUP2: {
        int from = fx_i32(&c), to = fx_i32(&c);
        if (from < 0 || to < 0) c.bad = 1;
        if (from > top) top = from;
        if (to > top) top = to;
        if (run && !c.bad) err = fx_dup2(from, to);
        break;
      }
      case FX_CLOSE: {
        int fd = fx_i32(&c);
        if (fd < 0) c.bad = 1;
        if (fd > top) top = fd;
        if (run && !c.bad && close(fd) < 0 && errno != EBADF) err = errno; /* like posix_spawn: closing a closed fd is fine */
        break;
      }
      case FX_OPEN: {
        int fd = fx_i32(&c), flags = fx_i32(&c);
        mode_t mode = (mode_t)fx_u32(&c);
        const char *path = fx_str(&c);
        if (fd < 0) c.bad = 1;
        if (fd > top) top = fd;
        if (run && !c.bad) err = fx_open(fd, path, flags, mode);
        break;
      }
      case FX_CHDIR: {
        const char *path = fx_str(&c);
        if (run && !c.bad && chdir(path) < 0) err = errno;
        break;
      }
      case FX_FCHDIR: {
        int fd = fx_i32(&c);
        if (fd > top) top = fd;
        if (run && !c.bad && fchdir(fd) < 0) err = errno;
        break;
      }
      case FX_SETSID:
        if (run && setsid() < 0) err = errno;
        break;
      case FX_SETPGID: {
        pid_t pgid = (pid_t)fx_i32(&c);
        if (run && !c.bad && setpgid(0, pgid) < 0) err = errno;
        break;
      }
      case FX_UMASK: {
        mode_t mask = (mode_t)fx_u32(&c);
        if (run && !c.bad) umask(mask & 0777);
        break;
      }
      case FX_SIGDEFAULT:
      case FX_SIGIGNORE:
        n = fx_siglist(&c, &list);
        if (run && !c.bad) err = fx_signals(&list, n, op == FX_SIGDEFAULT ? SIG_DFL : SIG_IGN);
        break;
      case FX_SIGMASK: {
        n = fx_siglist(&c, &list);
        if (run && !c.bad) {
          sigset_t set;
          sigemptyset(&set);
          for (int k = 0; k < n && !err; k++)
            if (sigaddset(&set, fx_i32(&list)) < 0) err = errno;
          if (!err && sigprocmask(SIG_SETMASK, &set, NULL) < 0) err = errno;
        }
        break;
      }
      case FX_CLOSEFROM: {
        int low = fx_i32(&c);
        if (low < 0) c.bad = 1;
        if (run && !c.bad) err = fx_closefrom(low, keep_fd);
        break;
      }
      case FX_SETGROUPS: {
        uint32_t count = fx_u32(&c);
        gid_t groups[FX_MAX_GROUPS];
        if (count > FX_MAX_GROUPS) c.bad = 1;
        for (uint32_t k = 0; k < count && !c.bad; k++) groups[k] = (gid_t)fx_u32(&c);
        if (run && !c.bad && setgroups((size_t)count, groups) < 0) err = errno;
        break;
      }
      case FX_SETGID: {
        gid_t gid = (gid_t)fx_u32(&c);
        if (run && !c.bad && setgid(gid) < 0) err = errno;
        break;
      }
      case FX_SETUID: {
        uid_t uid = (uid_t)fx_u32(&c);
        if (run && !c.bad && setuid(uid) < 0) err = errno;
        break;
      }
      case FX_SETRLIMIT:
      case FX_SETRLIMIT_BY_NAME: {
        int32_t resource = fx_i32(&c);
        uint64_t soft = fx_u64(&c), hard = fx_u64(&c);
        if (op == FX_SETRLIMIT_BY_NAME) resource = fx_rlimit_native((uint32_t)resource);
        if (run && !c.bad) err = fx_setrlimit(resource, soft, hard);
        break;
      }
      case FX_NICE: {
        int inc = fx_i32(&c);
        if (run && !c.bad) {
          errno = 0;
          if (nice(inc) == -1 && errno != 0) err = errno;
        }
        break;
      }
      default:
        c.bad = 1;
    }
    if (c.bad) return EPROTO;
    if (err) return err;
  }
  *maxfd = top;
  return 0;
}

/* Moves *fd above `above` (close-on-exec) when an action could reach it. */
static int fx_move_above(int *fd, int above) {
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
  sh_argv[0] = (char *)"/bin/sh";
  sh_argv[1] = (char *)path;
  if (argv[0])
    for (i = 1; argv[i]; i++) sh_argv[i + 1] = argv[i];
  sh_argv[i + 1] = NULL;
  execve("/bin/sh", sh_argv, envp);
}

/*
 * execve(file), or with search an execvp-style lookup in envp's PATH (default /bin:/usr/bin)
 * using pathbuf (FX_PATH_BUF bytes) and sh_argv (argc + 2 slots) prepared by the parent; without
 * sh_argv (NULL), a file the kernel cannot run is never handed to /bin/sh: ENOEXEC is returned.
 * Returns only on failure, with the errno value.
 */
static int fx_exec(const char *file, char *const argv[], char *const envp[], int search, char *pathbuf, char **sh_argv) {
  if (!search || strchr(file, '/') != NULL) {
    execve(file, argv, envp);
    int err = errno;
    if (search && err == ENOEXEC) fx_exec_sh(file, argv, envp, sh_argv);
    return err;
  }
  if (*file == 0) return ENOENT;
  const char *path = fx_getenv(envp, "PATH");
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
