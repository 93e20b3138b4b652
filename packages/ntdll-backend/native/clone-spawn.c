/* fx_clone_spawn: starts a child with clone(CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD), without
 * CLONE_VFORK, so the calling thread (Node's event loop) returns as soon as the child exists,
 * while the child applies its actions and execs concurrently on another core. Called through koffi
 * by the ntdll backend (src/linux/clone-spawn.ts), built into dist/<platform>-<arch>/libfxclone.so.
 *
 * Safety rules (the child runs in the parent's address space, next to a live event loop):
 * - The child touches only its own stack (mapped here, with a guard page) and the request blob,
 *   which the parent wrote before clone and keeps alive, unchanged, until the child has left the
 *   address space. The kernel clears the slot's tid word (CLONE_CHILD_CLEARTID, set non-zero
 *   before clone) when the child execs or exits; reusing a slot after the child is reaped is
 *   always safe.
 * - No libc anywhere in this file: raw syscalls only. errno lives in thread-local storage, and the
 *   child shares the loop thread's TLS: any libc call could clobber the parent's errno (or take a
 *   libc lock the parent holds). Built with -nostdlib -ffreestanding -fno-builtin
 *   -fno-stack-protector -fno-tree-loop-distribute-patterns (no canary read through TLS, no
 *   memcpy call made out of a loop), and the build checks that the library imports nothing but
 *   environ (read by the parent, before clone).
 * - All signals are blocked on the calling thread across clone, so no handler of the parent (Node's
 *   SIGCHLD, SIGINT...) can ever run on the child's stack over the shared memory. The child resets
 *   every disposition to SIG_DFL (as the posix_spawn path does with POSIX_SPAWN_SETSIGDEF over all
 *   signals), then sets the requested mask right before execve, as glibc does.
 * - Without CLONE_FILES and CLONE_FS the child works on copies of the fd table and of the working
 *   directory: its dup2, close and chdir never touch the parent's, and the parent may close its
 *   copies of the child's fds as soon as clone returned.
 *
 * Exec failure: the child writes errno and the index of the action that failed (-1: the program
 * itself or an fd set up for stdio) into its slot and exits 127; the parent reads them when it
 * reaps that pid. */
#if !defined(__x86_64__)
#error "clone-spawn.c: only x86_64 is implemented (other architectures keep the posix_spawn path)"
#endif

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

enum {
  SYS_close = 3, SYS_lseek = 8, SYS_getdents64 = 217, SYS_mmap = 9, SYS_mprotect = 10, SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14,
  SYS_dup2 = 33, SYS_clone = 56, SYS_execve = 59, SYS_fcntl = 72, SYS_chdir = 80, SYS_setpgid = 109,
  SYS_setsid = 112, SYS_exit_group = 231, SYS_openat = 257, SYS_close_range = 436
};
enum { CLONE_VM = 0x100, CLONE_CHILD_CLEARTID = 0x200000, SIGCHLD = 17 };
enum { EINTR = 4, ENOENT = 2, EACCES = 13, ENODEV = 19, ENOTDIR = 20, ESTALE = 116, ETIMEDOUT = 110, ENAMETOOLONG = 36 };
enum { F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1, AT_FDCWD = -100, O_LARGEFILE = 0100000, O_DIRECTORY = 0200000 };
/* Built with -DFX_NO_CLOSE_RANGE to check the /proc/self/fd fallback by hand (a syscall number no kernel has). */
#ifdef FX_NO_CLOSE_RANGE
#define SYS_CLOSE_RANGE 100000
#else
#define SYS_CLOSE_RANGE SYS_close_range
#endif
enum { PROT_NONE = 0, PROT_RW = 3, MAP_PRIVATE_ANON_STACK = 0x02 | 0x20 | 0x20000 };
enum { PATH_MAX = 4096, NAME_MAX = 255 };

/* Version of the request layout below: the package checks it when it binds the library. */
int fx_clone_version(void) { return 1; }

/* One file action, as src/linux/clone-spawn.ts encodes it (int32 each). */
enum { OP_DUP2 = 1, OP_CLOSE = 2, OP_OPEN = 3, OP_CHDIR = 4, OP_CLOSEFROM = 5 };
struct op {
  int op, fd, arg, mode; /* dup2: fd = from, arg = to; open: arg = flags */
  u32 path;              /* offset of a NUL-terminated path in the blob */
  int action;            /* index of the request's action, or -1 */
};

enum { REQ_SETSID = 1, REQ_SETPGID = 2, REQ_SEARCH = 4, REQ_ENV_IN_BLOB = 8 };
/* The request blob's header. Pointer arrays hold offsets into the blob when JavaScript writes
 * them; fx_clone_spawn turns them into addresses, in the parent, before clone. */
struct req {
  u32 flags;
  int pgid;
  int setsid_action, setpgid_action;
  u32 nops, ops;   /* count, offset of struct op[] */
  u32 file;        /* offset of the program (a path, or a bare name with REQ_SEARCH) */
  u32 argv;        /* offset of u64[argc + 1]: offsets, the last one 0 */
  u32 envp;        /* with REQ_ENV_IN_BLOB: offset of u64[envc + 1], as argv */
  u32 relocated;   /* set once the offsets are addresses (a blob may be spawned again) */
  u64 sigmask;     /* signals blocked in the child: bit n-1 for signal n */
};

/* The slot the child reports into (an Int32Array the parent keeps until it reaped the child). */
struct slot {
  volatile int tid; /* CLONE_CHILD_CLEARTID word: non-zero until the child execs or exits */
  int err;          /* errno of the failure, 0 while none */
  int action;       /* the failed action's index, -1 for the program itself or stdio */
};

/* What the child receives, copied to the top of its own stack before clone. */
struct child_arg {
  const char *blob;
  struct slot *slot;
  char *const *envp;
  const char *path; /* PATH's value in the parent's environ, or 0 */
};

static inline i64 sys1(i64 n, i64 a) {
  i64 r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a) : "rcx", "r11", "memory");
  return r;
}
static inline i64 sys2(i64 n, i64 a, i64 b) {
  i64 r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return r;
}
static inline i64 sys3(i64 n, i64 a, i64 b, i64 c) {
  i64 r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
static inline i64 sys4(i64 n, i64 a, i64 b, i64 c, i64 d) {
  i64 r;
  register i64 r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
static inline i64 sys6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
  i64 r;
  register i64 r10 __asm__("r10") = d;
  register i64 r8 __asm__("r8") = e;
  register i64 r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
}

/* clone without a libc: the child starts on `stack` (16-byte aligned, fn and arg pushed on it),
 * calls fn(arg) and exits with its result; never returns into the parent's frames. */
long fx_raw_clone(u64 flags, void *stack, volatile int *ctid, int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".type fx_raw_clone,@function\n"
        ".hidden fx_raw_clone\n"
        "fx_raw_clone:\n"
        "  and $-16, %rsi\n"
        "  sub $16, %rsi\n"
        "  mov %rcx, 8(%rsi)\n" /* fn */
        "  mov %r8, 0(%rsi)\n"  /* arg */
        "  mov %rdx, %r10\n"    /* ctid */
        "  xor %edx, %edx\n"    /* ptid */
        "  xor %r8d, %r8d\n"    /* tls */
        "  mov $56, %eax\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jnz 1f\n"
        "  xor %ebp, %ebp\n"
        "  pop %rdi\n"
        "  pop %rax\n"
        "  call *%rax\n"
        "  mov %eax, %edi\n"
        "  mov $231, %eax\n" /* exit_group */
        "  syscall\n"
        "  hlt\n"
        "1: ret\n"
        ".size fx_raw_clone, .-fx_raw_clone\n");

static u64 len(const char *s) {
  u64 n = 0;
  while (s[n]) n++;
  return n;
}

struct k_sigaction {
  void *handler;
  u64 flags;
  void *restorer;
  u64 mask;
};

struct dirent64 {
  u64 ino;
  i64 off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* closefrom as glibc's posix_spawn does it: close_range, else (kernels before 5.9, or a seccomp
 * profile that refuses it) every fd listed in /proc/self/fd from `low` up, listing again after
 * each pass that closed something (closing changes the directory being read). */
static int close_from(int low) {
  if (sys3(SYS_CLOSE_RANGE, low, ~0U, 0) == 0) return 0;
  int dir = (int)sys4(SYS_openat, AT_FDCWD, (i64) "/proc/self/fd", O_DIRECTORY | O_LARGEFILE, 0);
  if (dir < 0) return dir;
  char buffer[1024] __attribute__((aligned(8)));
  for (;;) {
    i64 n = sys3(SYS_getdents64, dir, (i64)buffer, sizeof buffer);
    if (n < 0) {
      sys1(SYS_close, dir);
      return (int)n;
    }
    if (n == 0) break;
    int closed = 0;
    for (i64 at = 0; at < n;) {
      const struct dirent64 *entry = (const struct dirent64 *)(buffer + at);
      at += entry->reclen;
      int fd = 0, digits = 0;
      for (const char *c = entry->name; *c >= '0' && *c <= '9'; c++, digits++) fd = fd * 10 + (*c - '0');
      if (!digits || entry->name[digits] || fd < low || fd == dir) continue;
      sys1(SYS_close, fd);
      closed = 1;
    }
    if (closed) sys3(SYS_lseek, dir, 0, 0 /* SEEK_SET */);
  }
  sys1(SYS_close, dir);
  return 0;
}

static int apply_op(const char *blob, const struct op *op) {
  i64 r;
  switch (op->op) {
  case OP_DUP2:
    if (op->fd == op->arg) { /* POSIX: dup2(fd, fd) in posix_spawn clears FD_CLOEXEC (and fails if fd is closed) */
      r = sys2(SYS_fcntl, op->fd, F_GETFD);
      if (r < 0) return (int)r;
      return (int)sys3(SYS_fcntl, op->fd, F_SETFD, r & ~FD_CLOEXEC);
    }
    r = sys2(SYS_dup2, op->fd, op->arg);
    return r < 0 ? (int)r : 0;
  case OP_CLOSE:
    sys1(SYS_close, op->fd);
    return 0; /* as glibc: closing an fd that is not open is not an error (the range was checked up front) */
  case OP_OPEN: {
    i64 fd = sys4(SYS_openat, AT_FDCWD, (i64)(blob + op->path), op->arg | O_LARGEFILE, op->mode);
    if (fd < 0) return (int)fd;
    if (fd != op->fd) {
      r = sys2(SYS_dup2, fd, op->fd);
      if (r < 0) return (int)r;
      r = sys1(SYS_close, fd);
      if (r < 0) return (int)r;
    }
    return 0;
  }
  case OP_CHDIR:
    return (int)sys1(SYS_chdir, (i64)(blob + op->path));
  case OP_CLOSEFROM:
    return close_from(op->fd);
  }
  return -22; /* EINVAL: an op this build does not know */
}

/* execvp's search as glibc's posix_spawnp does it (no /bin/sh fallback on ENOEXEC): ENOENT,
 * ENOTDIR and the like go on to the next entry, EACCES is remembered, anything else stops. */
static int exec_search(const char *file, char *const *argv, char *const *envp, const char *path) {
  u64 flen = len(file);
  for (u64 i = 0; i < flen; i++)
    if (file[i] == '/') return (int)sys3(SYS_execve, (i64)file, (i64)argv, (i64)envp);
  if (flen == 0) return -ENOENT;
  if (flen > NAME_MAX) return -ENAMETOOLONG;
  if (!path) path = "/bin:/usr/bin";
  char buffer[PATH_MAX + NAME_MAX + 2];
  int eacces = 0;
  for (const char *p = path;;) {
    const char *end = p;
    while (*end && *end != ':') end++;
    u64 dlen = (u64)(end - p);
    if (dlen < PATH_MAX) {
      char *out = buffer;
      for (u64 i = 0; i < dlen; i++) *out++ = p[i];
      if (dlen) *out++ = '/'; /* an empty entry: the working directory */
      for (u64 i = 0; i <= flen; i++) *out++ = file[i];
      int r = (int)sys3(SYS_execve, (i64)buffer, (i64)argv, (i64)envp);
      switch (-r) {
      case EACCES:
        eacces = 1;
        break;
      case ENOENT:
      case ESTALE:
      case ENOTDIR:
      case ENODEV:
      case ETIMEDOUT:
        break;
      default:
        return r;
      }
    }
    if (!*end) break;
    p = end + 1;
  }
  return eacces ? -EACCES : -ENOENT;
}

static int child_main(void *raw) {
  const struct child_arg *arg = raw;
  const char *blob = arg->blob;
  const struct req *req = (const struct req *)blob;
  struct slot *slot = arg->slot;
  int action = -1;
  i64 r;

  /* Every disposition back to default: no handler of the parent may run here, and the program
   * must not inherit Node's ignored SIGPIPE and SIGXFSZ. */
  struct k_sigaction dfl = {0, 0, 0, 0};
  for (int sig = 1; sig <= 64; sig++)
    if (sig != 9 && sig != 19) sys4(SYS_rt_sigaction, sig, (i64)&dfl, 0, 8);

  if (req->flags & REQ_SETSID) {
    action = req->setsid_action;
    if ((r = sys1(SYS_setsid, 0)) < 0) goto fail;
  }
  if (req->flags & REQ_SETPGID) {
    action = req->setpgid_action;
    if ((r = sys2(SYS_setpgid, 0, req->pgid)) < 0) goto fail;
  }
  const struct op *ops = (const struct op *)(blob + req->ops);
  for (u32 i = 0; i < req->nops; i++) {
    action = ops[i].action;
    if ((r = apply_op(blob, &ops[i])) < 0) goto fail;
  }
  action = -1;
  u64 mask = req->sigmask;
  sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (i64)&mask, 0, 8);
  char *const *argv = (char *const *)(blob + req->argv);
  if (req->flags & REQ_SEARCH)
    r = exec_search(blob + req->file, argv, arg->envp, arg->path);
  else
    r = sys3(SYS_execve, (i64)(blob + req->file), (i64)argv, (i64)arg->envp);
fail:
  slot->err = (int)-r;
  slot->action = action;
  return 127;
}

/* The parent's environ (the executable's, which setenv updates), for PATH: read here, before clone,
 * because the child must not read environ while JavaScript may be changing it. glibc never frees
 * or rewrites a string it put in environ, so the pointer stays valid while the child searches. */
extern char **environ;

static const char *parent_path(void) {
  char **env = environ;
  if (!env) return 0;
  for (; *env; env++) {
    const char *s = *env;
    if (s[0] == 'P' && s[1] == 'A' && s[2] == 'T' && s[3] == 'H' && s[4] == '=') return s + 5;
  }
  return 0;
}

static void relocate(char *blob, u32 at) {
  u64 *list = (u64 *)(blob + at);
  for (; *list; list++) *list += (u64)blob;
}

enum { GUARD = 4096 };

/* A child stack of `size` bytes (a multiple of 4096) below which a guard page faults instead of
 * running into other memory; 0 when mmap fails. Stacks are kept and reused, never unmapped. */
void *fx_stack_new(u64 size) {
  i64 base = sys6(SYS_mmap, 0, (i64)(size + GUARD), PROT_RW, MAP_PRIVATE_ANON_STACK, -1, 0);
  if (base < 0 && base > -4096) return 0;
  sys3(SYS_mprotect, base, GUARD, PROT_NONE);
  return (char *)base + GUARD;
}

/* Starts the child; returns its pid, or -errno when clone failed (nothing was started then).
 * `envp`: a NULL-terminated array of pointers (a copy of environ) unless the blob has its own. */
int fx_clone_spawn(void *stack, u64 stack_size, struct slot *slot, char *blob, char *const *envp) {
  struct req *req = (struct req *)blob;
  if (!req->relocated) {
    relocate(blob, req->argv);
    if (req->flags & REQ_ENV_IN_BLOB) relocate(blob, req->envp);
    req->relocated = 1;
  }
  if (req->flags & REQ_ENV_IN_BLOB) envp = (char *const *)(blob + req->envp);

  slot->tid = -1;
  slot->err = 0;
  slot->action = -1;
  char *top = (char *)stack + stack_size;
  struct child_arg *arg = (struct child_arg *)(top - 64);
  arg->blob = blob;
  arg->slot = slot;
  arg->envp = envp;
  arg->path = (req->flags & REQ_SEARCH) ? parent_path() : 0;

  u64 all = ~0UL, old;
  sys4(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (i64)&all, (i64)&old, 8);
  long pid = fx_raw_clone(CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD, arg, &slot->tid, child_main, arg);
  sys4(SYS_rt_sigprocmask, 2, (i64)&old, 0, 8);
  return (int)pid;
}
