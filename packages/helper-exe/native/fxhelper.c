/* fxhelper: a pre-started helper. Usage: fxhelper PARENT_PID, with a connected unix stream socket on fd 3;
 * or fxhelper --zygote PARENT_PID (Linux), the same socket on fd 3: the zygote that forks helpers (below).
 *
 * It says hello, waits in limbo for one request, applies it and execs in place, so its pid becomes
 * the program's pid and the program is a direct child of whoever started the helper.
 *
 * Protocol (version FX_PROTOCOL_VERSION; integers little-endian; strings as in action-core.h):
 *   helper -> parent, 16-byte frames {u32 'FXRP', u32 kind, i32 a, i32 b}:
 *     HELLO (a = protocol version, b = pid) at start;
 *     EXEC right before execve; the socket is close-on-exec, so EOF after EXEC means the exec worked;
 *     FAIL (a = errno, b = failing action index, -1 for the exec itself, -2 for the request, -3 for the
 *     working directory) then _exit(127).
 *   parent -> helper: header {u32 'FXRQ', u32 version, u32 body length, u32 fd count}, the fds attached
 *     to the header with SCM_RIGHTS; then the body: u32 flags (1: file is a bare name to find in the
 *     request's PATH as execvp does, but never handed to /bin/sh); str file; str cwd (the parent's
 *     working directory now, entered first; "" keeps the helper's); u32 argc, argv strs; u32 envc,
 *     "K=V" strs; u32 n, n x {i32 target fd, i32 source, u32 flags} (source: index of a passed fd,
 *     -1 /dev/null, -2 closed; flags 1: close-on-exec, as the parent's fd was), the program's
 *     starting fds, placed at the numbers the parent had them; then action records up to the end.
 * EOF while waiting (the parent closed the pool or died) ends the helper, as does the parent's death
 * (PR_SET_PDEATHSIG on Linux), which is cleared before the exec so the program outlives the parent
 * like any child.
 *
 * The zygote (same protocol version): says ZYGOTE_HELLO (a = version, b = pid), then for each
 * request {u32 'FXZQ', u32 version, u32 0, u32 0} with one fd attached (the new helper's end of a
 * socketpair) forks a helper with clone(CLONE_PARENT), so the helper is a child of the zygote's
 * parent (who reaps it and gets SIGCHLD), serving on that fd as fd 3 exactly as if started with
 * exec; and answers SPAWNED (a = the helper's pid) or FAIL (a = errno, b = -4). Requests are answered
 * in order. Forking this small static process costs far less than starting a helper from the parent,
 * and happens outside the parent. A malformed request ends the zygote (FAIL, b = -2). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "action-core.h"

#define FX_PROTOCOL_VERSION 2
#define FX_SEARCH_PATH 1u
#define FX_REPLY_MAGIC 0x50525846u   /* "FXRP" */
#define FX_REQUEST_MAGIC 0x51525846u /* "FXRQ" */
#define FX_HELLO 1
#define FX_EXEC 2
#define FX_FAIL 3
#define FX_MAX_BODY (256u << 20)
#define FX_MAX_FDS 253 /* SCM_MAX_FD */
#define FX_REQUEST_ERROR (-2)
#define FX_MAP_ENTRY 12
#define FX_CWD_ERROR (-3)
#define FX_CLONE_ERROR (-4)
#define FX_ZYGOTE_HELLO 4
#define FX_SPAWNED 5
#define FX_ZYGOTE_MAGIC 0x515a5846u /* "FXZQ" */

static int sock = 3;

static void frame(uint32_t kind, int32_t a, int32_t b) {
  unsigned char f[16];
  fx_put32(f, FX_REPLY_MAGIC);
  fx_put32(f + 4, kind);
  fx_put32(f + 8, (uint32_t)a);
  fx_put32(f + 12, (uint32_t)b);
  while (send(sock, f, sizeof f, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void fail(int err, int index) {
  frame(FX_FAIL, err, index);
  _exit(127);
}

static void read_exactly(unsigned char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = read(sock, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(EPROTO, FX_REQUEST_ERROR); /* the request was cut short */
    buf += n;
    len -= (size_t)n;
  }
}

/* Receives the header and the fds attached to it; returns the fd count. EOF before a request: exit quietly. */
static int receive_header(unsigned char header[16], int fds[FX_MAX_FDS]) {
  union {
    char buf[CMSG_SPACE(sizeof(int) * FX_MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct iovec iov = {header, 16};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (n <= 0) _exit(0);
  int count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    if (count + k > FX_MAX_FDS) fail(EPROTO, FX_REQUEST_ERROR);
    memcpy(fds + count, CMSG_DATA(c), sizeof(int) * (size_t)k);
    count += k;
  }
  if (msg.msg_flags & MSG_CTRUNC) fail(EPROTO, FX_REQUEST_ERROR);
  if (n < 16) read_exactly(header + n, 16 - (size_t)n);
  return count;
}

/* Reads n strings into a NULL-terminated vector. */
static char **strings(struct fx_cursor *c) {
  uint32_t n = fx_u32(c);
  if (c->bad || n > (size_t)(c->end - c->p) / 5) fail(EPROTO, FX_REQUEST_ERROR); /* each string takes >= 5 bytes */
  char **v = malloc(((size_t)n + 1) * sizeof *v);
  if (!v) fail(ENOMEM, FX_REQUEST_ERROR);
  for (uint32_t i = 0; i < n; i++) v[i] = (char *)fx_str(c);
  v[n] = NULL;
  if (c->bad) fail(EPROTO, FX_REQUEST_ERROR);
  return v;
}

/* Like libuv: the program starts with default dispositions and no mask, whatever the starter left. */
static void default_signals(void) {
  for (int s = 1; s < FX_NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) fx_disposition(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* What every helper does first (a forked one too: none of it is inherited), up to the signals. */
static void prepare(const char *parent) {
  if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) _exit(2); /* started without the socket */
  fx_close_range(4, ~0u);                             /* nothing of the starter's leaks into the program */
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent && getppid() != (pid_t)atol(parent)) _exit(0); /* the parent died before the line above */
#else
  (void)parent;
#endif
}

/* Waiting keeps the parent's scheduling policy (so does the zygote): with SCHED_BATCH, whose
 * wake-ups never preempt, a request arriving on a busy machine waited whole ticks (4-12 ms at
 * HZ 250) before the helper ran. */
static void hello(void) { frame(FX_HELLO, FX_PROTOCOL_VERSION, (int32_t)getpid()); }

static void start(const char *parent) {
  prepare(parent);
  default_signals();
  hello();
}

/* Waits for the one request, applies it and execs; never returns. */
static void serve(void) {
  unsigned char header[16];
  int fds[FX_MAX_FDS];
  int nfds = receive_header(header, fds);
  uint32_t length = fx_get32(header + 8);
  if (fx_get32(header) != FX_REQUEST_MAGIC) fail(EPROTO, FX_REQUEST_ERROR);
  if (fx_get32(header + 4) != FX_PROTOCOL_VERSION) fail(EPROTONOSUPPORT, FX_REQUEST_ERROR);
  if (length > FX_MAX_BODY || fx_get32(header + 12) != (uint32_t)nfds) fail(EPROTO, FX_REQUEST_ERROR);
  unsigned char *body = malloc(length ? length : 1);
  if (!body) fail(ENOMEM, FX_REQUEST_ERROR);
  read_exactly(body, length);

  struct fx_cursor c = {body, body + length, 0};
  uint32_t flags = fx_u32(&c);
  const char *file = fx_str(&c);
  const char *cwd = fx_str(&c);
  char **args = strings(&c);
  char **env = strings(&c);
  uint32_t nmap = fx_u32(&c);
  if (c.bad || nmap > (size_t)(c.end - c.p) / FX_MAP_ENTRY) fail(EPROTO, FX_REQUEST_ERROR);
  const unsigned char *map = c.p;
  c.p += (size_t)nmap * FX_MAP_ENTRY;
  const unsigned char *actions = c.p;
  size_t actions_len = (size_t)(c.end - c.p);

  if (*cwd && chdir(cwd) < 0) fail(errno, FX_CWD_ERROR);

  /* Everything the request names must stay clear of the helper's own fds: move those above it. */
  int index = 0, maxfd = 2;
  int err = fx_check_actions(actions, actions_len, &index, &maxfd);
  if (err) fail(err, index);
  if (maxfd < 2) maxfd = 2;
  for (uint32_t i = 0; i < nmap; i++) {
    const unsigned char *entry = map + FX_MAP_ENTRY * i;
    int32_t target = (int32_t)fx_get32(entry), source = (int32_t)fx_get32(entry + 4);
    if (target < 0 || source < -2 || source >= nfds) fail(EPROTO, FX_REQUEST_ERROR);
    if (target > maxfd) maxfd = target;
  }
  if ((err = fx_move_above(&sock, maxfd)) != 0) fail(err, FX_REQUEST_ERROR);
  for (int i = 0; i < nfds; i++)
    if ((err = fx_move_above(&fds[i], maxfd)) != 0) fail(err, FX_REQUEST_ERROR);

  /* The program's starting fds: the caller's stdio and the parent fds its actions name. */
  for (uint32_t i = 0; i < nmap; i++) {
    const unsigned char *entry = map + FX_MAP_ENTRY * i;
    int target = (int)fx_get32(entry), source = (int)fx_get32(entry + 4);
    if (source >= 0) {
      err = dup2(fds[source], target) < 0 ? errno : 0;
      if (!err && (fx_get32(entry + 8) & 1) && fcntl(target, F_SETFD, FD_CLOEXEC) < 0) err = errno;
    } else if (source == -1) err = fx_open(target, "/dev/null", O_RDWR, 0);
    else err = close(target) < 0 && errno != EBADF ? errno : 0;
    if (err) fail(err, FX_REQUEST_ERROR);
  }
  for (int i = 0; i < nfds; i++) close(fds[i]);

  if ((err = fx_apply_actions(actions, actions_len, sock, &index)) != 0) fail(err, index);
#ifdef __linux__
  prctl(PR_SET_PDEATHSIG, 0);
#endif
  frame(FX_EXEC, 0, 0);
  static char pathbuf[FX_PATH_BUF];
  fail(fx_exec(file, args, env, (flags & FX_SEARCH_PATH) != 0, pathbuf, NULL), -1); /* no sh_argv: never /bin/sh */
}

#ifdef __linux__
#include <sched.h>
#include <sys/mman.h>

#define FX_HELPER_STACK (256u << 10)

static const char *parent_pid;
static int new_helper_sock;

/* A forked helper: a copy of the zygote, which becomes what `fxhelper PARENT_PID` is after exec. */
static int helper_child(void *unused) {
  (void)unused;
  if (dup2(new_helper_sock, sock) < 0) _exit(2);
  prepare(parent_pid); /* closes the zygote's fds (4 and up), sets PDEATHSIG for the new parent */
  hello(); /* the zygote's default dispositions and empty mask are this copy's already: ~60 sigaction calls fewer */
  serve();
  return 127;
}

static void zygote(const char *parent) {
  if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) _exit(2);
  fx_close_range(4, ~0u);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent && getppid() != (pid_t)atol(parent)) _exit(0);
  default_signals(); /* once, for every helper it forks */
  parent_pid = parent;
  /* Every child gets its own copy-on-write copy of this stack: one mapping serves them all. */
  char *stack = mmap(NULL, FX_HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) fail(errno, FX_REQUEST_ERROR);
  frame(FX_ZYGOTE_HELLO, FX_PROTOCOL_VERSION, (int32_t)getpid());
  for (;;) {
    unsigned char request[16];
    int fds[FX_MAX_FDS];
    int nfds = receive_header(request, fds); /* EOF: the pool closed, exit quietly */
    if (fx_get32(request) != FX_ZYGOTE_MAGIC || nfds != 1) fail(EPROTO, FX_REQUEST_ERROR);
    if (fx_get32(request + 4) != FX_PROTOCOL_VERSION) fail(EPROTONOSUPPORT, FX_REQUEST_ERROR);
    new_helper_sock = fds[0];
    /* CLONE_PARENT: the parent reaps the helper as its own child; the exit signal is the zygote's (SIGCHLD). */
    pid_t pid = clone(helper_child, stack + FX_HELPER_STACK, CLONE_PARENT | SIGCHLD, NULL);
    int err = errno;
    close(new_helper_sock);
    if (pid < 0) frame(FX_FAIL, err, FX_CLONE_ERROR);
    else frame(FX_SPAWNED, (int32_t)pid, 0);
  }
}
#endif

int main(int argc, char **argv) {
#ifdef __linux__
  if (argc > 1 && strcmp(argv[1], "--zygote") == 0) zygote(argc > 2 ? argv[2] : NULL);
#endif
  start(argc > 1 ? argv[1] : NULL);
  serve();
  return 127;
}
