/* Cases for the C fork_before_exec, run one per process by test/libforkexec.test.ts:
 *   libforkexec-test FXPROBE SCRATCHDIR CASE
 * Each case starts the conformance probe (fxprobe) through fork_before_exec, reads what the child
 * saw, and exits 0 when it matches; otherwise it prints what went wrong and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkexec.h"

static const char *probe, *scratch;
static char out[65536];

#define CHECK(cond, ...)                                           \
  do {                                                             \
    if (!(cond)) {                                                 \
      fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                \
      fprintf(stderr, "\n");                                       \
      exit(1);                                                     \
    }                                                              \
  } while (0)

/* Each action list made by fresh() starts with dup2(pipe, 1), so the probe's stdout comes back. */
static struct {
  forkexec_actions *a;
  int r, w;
} pipes[16];

static void capture(forkexec_actions *a, int *r, int *w) {
  for (int i = 0; i < 16; i++)
    if (pipes[i].a == a) {
      *r = pipes[i].r;
      *w = pipes[i].w;
      return;
    }
  CHECK(0, "actions without a capture pipe");
}

/* Reads the child's stdout to EOF, reaps it, returns its wait status. */
static int finish(pid_t pid, int r, int w) {
  close(w);
  size_t n = 0;
  ssize_t k;
  while ((k = read(r, out + n, sizeof out - 1 - n)) > 0) n += (size_t)k;
  out[n] = 0;
  if (n && out[n - 1] == '\n') out[n - 1] = 0;
  close(r);
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
  return status;
}

/* Runs fxprobe with the probe commands in args (NULL-terminated) and returns its stdout. */
static const char *run_probe(forkexec_actions *a, const char *const *args, char *const envp[], int expect_status) {
  char *argv[64] = {(char *)"fxprobe"};
  int n = 1;
  for (; args[n - 1]; n++) argv[n] = (char *)args[n - 1];
  argv[n] = NULL;
  int r, w;
  capture(a, &r, &w);
  pid_t pid = fork_before_exec(probe, argv, envp, a, 0);
  CHECK(pid > 0, "fork_before_exec: %s", strerror(errno));
  int status = finish(pid, r, w);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == expect_status, "status %#x, stdout %s", status, out);
  return out;
}

#define PROBE(a, ...) run_probe(a, (const char *const[]){__VA_ARGS__, NULL}, environ, 0)

static void on_signal(int sig) {
  (void)sig;
}

static char *path_in_scratch(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", scratch, name);
  return buf;
}

static void read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
  ssize_t n = read(fd, buf, size - 1);
  buf[n < 0 ? 0 : n] = 0;
  close(fd);
}

static int no_zombie(void) {
  return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

static forkexec_actions *fresh(void) {
  forkexec_actions *a = forkexec_actions_new();
  CHECK(a != NULL, "forkexec_actions_new");
  static int used;
  int p[2];
  CHECK(used < 16 && pipe2(p, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
  CHECK(forkexec_dup2(a, p[1], 1) == 0, "dup2 action");
  pipes[used].a = a;
  pipes[used].r = p[0];
  pipes[used++].w = p[1];
  return a;
}


/* SIGCHLD handler in the style of real daemons: reap whatever exited, remember the pids. */
static volatile sig_atomic_t reaped_count, sigchld_count;
static volatile pid_t reaped[8];
static void on_sigchld(int sig) {
  (void)sig;
  int saved = errno;
  sigchld_count++;
  pid_t p;
  while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
    if (reaped_count < 8) reaped[reaped_count++] = p;
  errno = saved;
}

/* The codemod's shape, with exec failing on the fast path: the original child code runs in a real child, its
 * message and exit status come out as written, and the failed fast child leaves nothing for the caller. */
static void slow_path_case(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  const char *missing = path_in_scratch("missing-program");
  char *args[] = {(char *)"missing-program", NULL};
  fflush(stdout);
  forkexec_actions *fx = forkexec_actions_new();
  forkexec_dup2(fx, p[1], 2);
  forkexec_close(fx, p[1]);
  pid_t pid = fx ? fork_before_exec(missing, args, environ, fx, 0) : -1;
  forkexec_actions_free(fx);
  CHECK(pid == -1 && errno == ENOENT, "fast path: pid %d, %s", (int)pid, strerror(errno));
  CHECK(reaped_count == 0, "the handler reaped the fast child (%d)", (int)reaped[0]);
  if (pid < 0) pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    close(p[1]);
    execv(missing, args);
    fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  CHECK(pid > 0, "fork: %s", strerror(errno));
  close(p[1]);
  char msg[256];
  ssize_t n = read(p[0], msg, sizeof msg - 1);
  msg[n < 0 ? 0 : n] = 0;
  CHECK(!strcmp(msg, "cannot run missing-program: No such file or directory\n"), "stderr %s", msg);
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (;;) { /* the handler reaps the real child */
    sigprocmask(SIG_BLOCK, &chld, &old);
    int done = reaped_count > 0;
    if (!done) sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (done) break;
  }
  CHECK(reaped_count == 1 && reaped[0] == pid, "reaped %d pids, first %d, want %d", (int)reaped_count, (int)reaped[0], (int)pid);
  signal(SIGCHLD, SIG_DFL);
  CHECK(no_zombie(), "a child is left");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s FXPROBE SCRATCHDIR CASE\n", argv[0]);
    return 2;
  }
  probe = argv[1];
  scratch = argv[2];
  const char *t = argv[3];
  forkexec_actions *a = fresh();
  char buf[4096];

  if (!strcmp(t, "plain")) {
    CHECK(!strcmp(PROBE(a, "echo", "hello", "exit", "0"), "hello"), "got %s", out);
  } else if (!strcmp(t, "null-actions")) {
    char *args[] = {(char *)"fxprobe", (char *)"exit", (char *)"3", NULL};
    pid_t pid = fork_before_exec(probe, args, NULL, NULL, 0);
    int status;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "spawn/wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
  } else if (!strcmp(t, "dup2")) {
    int fd = open(path_in_scratch("dup2.txt"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(forkexec_dup2(a, fd, 7) == 0, "add");
    PROBE(a, "write", "7", "on-seven");
    read_file(path_in_scratch("dup2.txt"), buf, sizeof buf);
    CHECK(!strcmp(buf, "on-seven"), "file has %s", buf);
  } else if (!strcmp(t, "dup2-self-as-posix")) {
    /* POSIX dup2(fd, fd) changes nothing: a close-on-exec fd stays close-on-exec; a closed fd fails (EBADF). */
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 3, "open");
    char fdbuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", fd);
    CHECK(forkexec_dup2(a, fd, fd) == 0, "add");
    CHECK(!strcmp(PROBE(a, "fdpath", fdbuf), "<closed>"), "fd %d in child: %s", fd, out);
    forkexec_actions *b = fresh();
    forkexec_dup2(b, 900, 900);
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, b, 0) == -1 && errno == EBADF, "dup2 of a closed fd onto itself: %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
  } else if (!strcmp(t, "fflush")) {
    /* a stream with nothing pending and not reading: the child's fflush makes no call, nothing is recorded */
    FILE *w = fopen(path_in_scratch("flush.txt"), "w");
    CHECK(w != NULL, "fopen");
    CHECK(forkexec_fflush(a, w) == 0, "an untouched stream");
    CHECK(!strcmp(PROBE(a, "echo", "started"), "started"), "got %s", out);
    fputs("written", w);
    CHECK(fflush(w) == 0, "fflush");
    forkexec_actions *b = fresh();
    CHECK(forkexec_fflush(b, w) == 0, "a flushed stream");
    CHECK(!strcmp(PROBE(b, "echo", "started"), "started"), "got %s", out);
    /* output pending (the child would write it once more), a reading stream (it would seek the shared fd back),
     * every stream: the start cancels, the failed child reaped */
    fputs(" pending", w);
    FILE *r = fopen(path_in_scratch("flush.txt"), "r");
    CHECK(r != NULL && fgetc(r) == 'w', "fopen, fgetc");
    FILE *streams[] = {w, r, NULL};
    char *args[] = {(char *)"fxprobe", NULL};
    for (int i = 0; i < 3; i++) {
      forkexec_actions *c = fresh();
      CHECK(forkexec_fflush(c, streams[i]) == ECANCELED, "stream %d", i);
      errno = 0;
      CHECK(fork_before_exec(probe, args, environ, c, 0) == -1 && errno == ECANCELED, "stream %d: %s", i, strerror(errno));
      CHECK(no_zombie(), "the failed child was not reaped");
    }
    fclose(r);
    CHECK(fclose(w) == 0, "the parent's stream is as it was");
    read_file(path_in_scratch("flush.txt"), buf, sizeof buf);
    CHECK(!strcmp(buf, "written pending"), "file has %s", buf);
  } else if (!strcmp(t, "fclose")) {
    /* nothing pending: the child's fclose is close(fileno(f)); the parent's stream stays open */
    FILE *w = fopen(path_in_scratch("close.txt"), "w");
    CHECK(w != NULL, "fopen");
    char fdbuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", fileno(w));
    CHECK(forkexec_fclose(a, w) == 0, "add");
    CHECK(!strcmp(PROBE(a, "fdpath", fdbuf), "<closed>"), "fd %s in child: %s", fdbuf, out);
    fputs("parent", w);
    CHECK(fclose(w) == 0, "the parent's stream is as it was");
    read_file(path_in_scratch("close.txt"), buf, sizeof buf);
    CHECK(!strcmp(buf, "parent"), "file has %s", buf);
    /* output pending, or a stream with no fd: cancels */
    FILE *p = fopen(path_in_scratch("close2.txt"), "w");
    static char mem[64];
    FILE *m = fmemopen(mem, sizeof mem, "w");
    CHECK(p != NULL && m != NULL, "fopen, fmemopen");
    fputs("pending", p);
    FILE *streams[] = {p, m};
    char *args[] = {(char *)"fxprobe", NULL};
    for (int i = 0; i < 2; i++) {
      forkexec_actions *c = fresh();
      CHECK(forkexec_fclose(c, streams[i]) == ECANCELED, "stream %d", i);
      errno = 0;
      CHECK(fork_before_exec(probe, args, environ, c, 0) == -1 && errno == ECANCELED, "stream %d: %s", i, strerror(errno));
      CHECK(no_zombie(), "the failed child was not reaped");
    }
    fclose(p);
    fclose(m);
  } else if (!strcmp(t, "setfd")) {
    /* fcntl(fd, F_SETFD, FD_CLOEXEC): the fd closes at the exec; F_SETFD 0: an O_CLOEXEC fd stays open; a closed fd
     * fails (EBADF), reported, the failed child reaped */
    int keep = open("/dev/null", O_RDONLY);
    int drop = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(keep >= 3 && drop >= 3, "open");
    char keepbuf[16], dropbuf[16];
    snprintf(keepbuf, sizeof keepbuf, "%d", keep);
    snprintf(dropbuf, sizeof dropbuf, "%d", drop);
    CHECK(forkexec_setfd(a, keep, FD_CLOEXEC) == 0, "add");
    CHECK(!strcmp(PROBE(a, "fdpath", keepbuf), "<closed>"), "fd %d in child: %s", keep, out);
    forkexec_actions *b = fresh();
    forkexec_setfd(b, drop, 0);
    CHECK(!strcmp(PROBE(b, "fdpath", dropbuf), "/dev/null"), "fd %d in child: %s", drop, out);
    /* the lowest free fd, closed here: the runtime's own pipe takes it in the parent, never in the child's actions */
    forkexec_actions *c = fresh();
    forkexec_actions *d = fresh();
    int closed = open("/dev/null", O_RDONLY);
    close(closed);
    forkexec_setfd(c, closed, 0);
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, c, 0) == -1 && errno == EBADF, "F_SETFD of closed fd %d: %s", closed, strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
    forkexec_dup2(d, closed, 0);
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, d, 0) == -1 && errno == EBADF, "dup2 from closed fd %d: %s", closed, strerror(errno));
    CHECK(forkexec_setfd(c, -1, 0) == EBADF, "a negative fd");
  } else if (!strcmp(t, "close")) {
    int fd = open("/dev/null", O_RDONLY);
    forkexec_dup2(a, fd, 9);
    forkexec_close(a, 9);
    forkexec_close(a, 200); /* closing a closed fd is not an error, like posix_spawn */
    CHECK(!strcmp(PROBE(a, "fdpath", "9"), "<closed>"), "fd 9: %s", out);
  } else if (!strcmp(t, "close-checked")) {
    /* close() checked: an open fd is closed; a closed one fails the start with EBADF, the failed child reaped */
    int fd = open("/dev/null", O_RDONLY);
    forkexec_dup2(a, fd, 9);
    CHECK(forkexec_close_checked(a, 9) == 0, "add");
    CHECK(!strcmp(PROBE(a, "fdpath", "9"), "<closed>"), "fd 9: %s", out);
    forkexec_actions *b = fresh();
    forkexec_close_checked(b, 200);
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, b, 0) == -1 && errno == EBADF, "close of closed fd 200: %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
    /* closed by an earlier action of the list: as in the child, the second close fails */
    forkexec_actions *c = fresh();
    forkexec_dup2(c, fd, 9);
    forkexec_close_checked(c, 9);
    forkexec_close_checked(c, 9);
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, c, 0) == -1 && errno == EBADF, "second close of 9: %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
    CHECK(forkexec_close_checked(c, -1) == EBADF, "a negative fd");
  } else if (!strcmp(t, "open")) {
    char *file = strdup(path_in_scratch("open.txt"));
    CHECK(forkexec_open(a, 5, file, O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0, "add");
    PROBE(a, "write", "5", "opened");
    read_file(file, buf, sizeof buf);
    CHECK(!strcmp(buf, "opened"), "file has %s", buf);
    struct stat st;
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", (unsigned)st.st_mode & 0777);
  } else if (!strcmp(t, "chdir")) {
    forkexec_chdir(a, scratch);
    CHECK(!strcmp(PROBE(a, "cwd"), scratch), "cwd %s", out);
  } else if (!strcmp(t, "fchdir")) {
    int dir = open(scratch, O_RDONLY | O_DIRECTORY);
    forkexec_fchdir(a, dir);
    CHECK(!strcmp(PROBE(a, "cwd"), scratch), "cwd %s", out);
  } else if (!strcmp(t, "setsid")) {
    forkexec_setsid(a);
    int pid, pgid, sid;
    sscanf(PROBE(a, "ids"), "pid=%d ppid=%*d pgid=%d sid=%d", &pid, &pgid, &sid);
    CHECK(pid == sid && pid == pgid, "%s", out);
  } else if (!strcmp(t, "setpgid")) {
    forkexec_setpgid(a, 0);
    int pid, pgid, sid;
    sscanf(PROBE(a, "ids"), "pid=%d ppid=%*d pgid=%d sid=%d", &pid, &pgid, &sid);
    CHECK(pid == pgid && pid != sid, "%s", out);
  } else if (!strcmp(t, "umask")) {
    forkexec_umask(a, 027);
    CHECK(!strcmp(PROBE(a, "umask"), "027"), "umask %s", out);
  } else if (!strcmp(t, "signals")) {
    signal(SIGHUP, SIG_IGN); /* ignored signals survive exec unless reset */
    signal(SIGINT, SIG_IGN);
    forkexec_sigdefault(a, SIGINT);
    forkexec_sigignore(a, SIGQUIT);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    forkexec_sigmask(a, &set);
    snprintf(buf, sizeof buf, "blocked=%d,%d ignored=%d,%d", SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT);
    CHECK(!strcmp(PROBE(a, "sigs"), buf), "got %s, want %s", out, buf);
    forkexec_actions *b = fresh();
    forkexec_sigdefault(b, 0);
    sigemptyset(&set);
    forkexec_sigmask(b, &set);
    CHECK(!strcmp(PROBE(b, "sigs"), "blocked= ignored="), "sigdefault(0): %s", out);
  } else if (!strcmp(t, "next-fd")) {
    /* the fd an open() in the child would get, asked in the parent: its own table with the actions so far applied */
    int n0 = forkexec_next_fd(a);
    CHECK(n0 >= 3 && fcntl(n0, F_GETFD) < 0 && forkexec_next_fd(NULL) == n0, "first free %d", n0);
    forkexec_open(a, n0, "/dev/null", O_RDONLY, 0);
    int n1 = forkexec_next_fd(a);
    CHECK(n1 > n0 && fcntl(n1, F_GETFD) < 0, "after an open onto %d: %d", n0, n1);
    forkexec_close(a, 0);
    CHECK(forkexec_next_fd(a) == 0, "a closed 0 is the next");
    forkexec_open(a, 0, "/dev/null", O_RDONLY, 0);
    forkexec_closefrom(a, n0);
    CHECK(forkexec_next_fd(a) == n0, "closefrom(%d) frees it again", n0);
    CHECK(!strcmp(PROBE(a, "fds"), "0 1 2"), "fds %s", out);
  } else if (!strcmp(t, "sigprocmask-from-caller")) {
    /* SIG_BLOCK and SIG_UNBLOCK change the mask the child starts with, the caller's, as after fork() */
    sigset_t mine, set;
    sigemptyset(&mine);
    sigaddset(&mine, SIGUSR1);
    sigaddset(&mine, SIGUSR2);
    sigprocmask(SIG_BLOCK, &mine, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    forkexec_sigprocmask(a, SIG_UNBLOCK, &set);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    forkexec_sigprocmask(a, SIG_BLOCK, &set);
    snprintf(buf, sizeof buf, "blocked=%d,%d ignored=", SIGHUP, SIGUSR2);
    CHECK(!strcmp(PROBE(a, "sigs"), buf), "got %s, want %s", out, buf);
    sigprocmask(SIG_UNBLOCK, &mine, NULL);
    CHECK(forkexec_sigprocmask(fresh(), 12345, &set) == EINVAL, "a bad how is refused");
  } else if (!strcmp(t, "closefrom")) {
    int fd = open("/dev/null", O_RDONLY);
    forkexec_dup2(a, fd, 4);
    forkexec_dup2(a, fd, 12);
    forkexec_closefrom(a, 5);
    CHECK(!strcmp(PROBE(a, "fds"), "0 1 2 4"), "fds %s", out);
  } else if (!strcmp(t, "close-range")) {
    /* from low to high, kept fds spared; fds above high stay open (a loop bounded by the fd limit) */
    int fd = open("/dev/null", O_RDONLY);
    for (int to = 4; to <= 9; to++) forkexec_dup2(a, fd, to);
    forkexec_dup2(a, fd, 30);
    forkexec_closefrom(a, 31); /* what the test runner left open */
    int keep[] = {7, 5, 40};
    forkexec_close_range(a, 3, 8, keep, 3);
    CHECK(forkexec_next_fd(a) == 3, "the range frees 3: next %d", forkexec_next_fd(a));
    CHECK(!strcmp(PROBE(a, "fds"), "0 1 2 5 7 9 30"), "fds %s", out);
    forkexec_actions *b = fresh();
    forkexec_dup2(b, fd, 4);
    forkexec_close_range(b, 3, 2, NULL, 0); /* empty: a bound of getdtablesize() - 1 below 3 */
    forkexec_close_range(b, 5, INT_MAX, NULL, 0);
    CHECK(!strcmp(PROBE(b, "fds"), "0 1 2 4"), "fds %s", out);
    CHECK(forkexec_close_range(fresh(), 3, 9, keep, 65) == EINVAL, "more than 64 kept fds are refused");
  } else if (!strcmp(t, "credentials")) {
    if (getuid() != 0) {
      printf("skip: needs root\n");
      return 0;
    }
    gid_t groups[] = {65534};
    forkexec_setgroups(a, 1, groups);
    forkexec_setgid(a, 65534);
    forkexec_setuid(a, 65534);
    CHECK(strstr(PROBE(a, "ids"), "uid=65534 gid=65534 groups=65534") != NULL, "%s", out);
  } else if (!strcmp(t, "credentials-re")) {
    if (getuid() != 0) {
      printf("skip: needs root\n");
      return 0;
    }
    /* initgroups's list is getgrouplist's, read here; then real, effective and saved ids */
    int n = 64;
    gid_t want[64];
    CHECK(getgrouplist("nobody", 65534, want, &n) >= 1, "getgrouplist");
    forkexec_initgroups(a, "nobody", 65534);
    forkexec_setresgid(a, 65534, 65534, 65534);
    forkexec_setreuid(a, 65534, 65534);
    CHECK(strstr(PROBE(a, "ids"), "uid=65534 gid=65534 groups=65534") != NULL, "%s", out);
    forkexec_actions *b = fresh();
    forkexec_setregid(b, 65534, 65534);
    forkexec_setresuid(b, 65534, 65534, 65534);
    /* setregid leaves the supplementary groups as they were: the parent's */
    char mine[512] = "uid=65534 gid=65534 groups=";
    gid_t have[64];
    int count = getgroups(64, have);
    for (int j = 0; j < count; j++)
      snprintf(mine + strlen(mine), sizeof mine - strlen(mine), "%s%d", j ? "," : "", (int)have[j]);
    const char *seen = strstr(PROBE(b, "ids"), mine);
    CHECK(seen && (seen[strlen(mine)] == '\n' || seen[strlen(mine)] == 0), "%s, want %s", out, mine);
    /* after the uid is dropped, a gid change fails: reported, the failed child reaped */
    forkexec_actions *c = fresh();
    forkexec_setreuid(c, 65534, 65534);
    forkexec_setregid(c, 1, 1);
    errno = 0;
    char *args[] = {(char *)"fxprobe", NULL};
    CHECK(fork_before_exec(probe, args, environ, c, 0) == -1 && errno == EPERM, "errno %d", errno);
    CHECK(forkexec_initgroups(a, NULL, 0) == EINVAL, "NULL user");
  } else if (!strcmp(t, "setctty")) {
    /* a new session takes the pty on fd 0 as its controlling terminal; without setsid the ioctl fails, reported */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "a pty: %s", strerror(errno));
    forkexec_open(a, 0, ptsname(master), O_RDWR | O_NOCTTY, 0);
    forkexec_setsid(a);
    forkexec_setctty(a, 0, 0);
    CHECK(strstr(PROBE(a, "ids"), "pid=") != NULL, "%s", out);
    forkexec_actions *b = fresh();
    forkexec_open(b, 0, ptsname(master), O_RDWR | O_NOCTTY, 0);
    forkexec_setctty(b, 0, 0);
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, b, 0) == -1 && errno == EPERM, "errno %d", errno);
    CHECK(forkexec_setctty(b, -1, 0) == EBADF, "a negative fd");
  } else if (!strcmp(t, "setctty-after-failed-start")) {
    /* forkpty's slow path (the C codemod): a fast child that took the pty as its controlling terminal and then failed
     * frees it when it exits, reaped before fork_before_exec returns (a pty is not hung up with its session leader),
     * so the next child's new session takes the same pty */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "a pty: %s", strerror(errno));
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    CHECK(slave >= 0, "the slave: %s", strerror(errno));
    forkexec_actions *b = fresh();
    forkexec_setsid(b);
    forkexec_setctty(b, slave, 0);
    char *args[] = {(char *)"/nonexistent/fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(args[0], args, environ, b, 0) == -1 && errno == ENOENT, "errno %d", errno);
    CHECK(no_zombie(), "the failed child was not reaped");
    forkexec_setsid(a);
    forkexec_setctty(a, slave, 0);
    CHECK(strstr(PROBE(a, "ids"), "pid=") != NULL, "%s", out);
    close(slave);
    close(master);
  } else if (!strcmp(t, "foreground")) {
    /* a session leader with the pty on fd 0 as its terminal makes its group the foreground one; without a terminal
     * on fd 0 tcsetpgrp fails (ENOTTY), reported */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "a pty: %s", strerror(errno));
    forkexec_open(a, 0, ptsname(master), O_RDWR | O_NOCTTY, 0);
    forkexec_setsid(a);
    forkexec_setctty(a, 0, 0);
    CHECK(forkexec_foreground(a, 0) == 0, "add");
    CHECK(strstr(PROBE(a, "ids"), "pid=") != NULL, "%s", out);
    forkexec_actions *b = fresh();
    forkexec_open(b, 0, "/dev/null", O_RDONLY, 0);
    forkexec_foreground(b, 0);
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, b, 0) == -1 && errno == ENOTTY, "errno %d", errno);
    CHECK(no_zombie(), "the failed child was not reaped");
    CHECK(forkexec_foreground(b, -1) == EBADF, "a negative fd");
  } else if (!strcmp(t, "sigaction")) {
    /* SIG_IGN stays ignored, a handler becomes SIG_DFL (as at the exec); NULL only asks; SIGCHLD with SA_NOCLDWAIT
     * and SIGKILL are refused, so the slow path runs them */
    struct sigaction ign, handler, nowait;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    memset(&handler, 0, sizeof handler);
    handler.sa_handler = on_signal;
    nowait = handler;
    nowait.sa_handler = SIG_DFL;
    nowait.sa_flags = SA_NOCLDWAIT;
    signal(SIGUSR2, SIG_IGN);
    CHECK(forkexec_sigaction(a, SIGUSR1, &ign) == 0 && forkexec_sigaction(a, SIGUSR2, &handler) == 0, "add");
    CHECK(forkexec_sigaction(a, SIGTERM, NULL) == 0, "a query");
    snprintf(buf, sizeof buf, "blocked= ignored=%d", SIGUSR1);
    CHECK(!strcmp(PROBE(a, "sigs"), buf), "got %s, want %s", out, buf);
    signal(SIGUSR2, SIG_DFL);
    forkexec_actions *b = fresh();
    CHECK(forkexec_sigaction(b, SIGCHLD, &nowait) == ENOTSUP, "SA_NOCLDWAIT");
    forkexec_actions *c = fresh();
    CHECK(forkexec_sigaction(c, SIGKILL, &handler) == EINVAL, "SIGKILL");
    CHECK(forkexec_sigaction(c, 0, &handler) == EINVAL, "signal 0");
  } else if (!strcmp(t, "setrlimit")) {
    struct rlimit rl = {123, 456};
    forkexec_setrlimit(a, RLIMIT_NOFILE, &rl);
    CHECK(!strcmp(PROBE(a, "rlimit", "nofile"), "123 456"), "%s", out);
  } else if (!strcmp(t, "nice")) {
    int base = atoi(PROBE(a, "nice"));
    forkexec_actions *b = fresh();
    forkexec_nice(b, 3);
    int now = atoi(PROBE(b, "nice"));
    CHECK(now == (base + 3 > 19 ? 19 : base + 3), "nice %d after %d", now, base);
  } else if (!strcmp(t, "env")) {
    setenv("FX_PARENT_ONLY", "parent", 1);
    setenv("FX_REPLACED", "old", 1);
    forkexec_setenv(a, "FX_NEW", "new value=1");
    forkexec_setenv(a, "FX_REPLACED", "new");
    forkexec_unsetenv(a, "FX_PARENT_ONLY");
    CHECK(!strcmp(PROBE(a, "env", "FX_NEW", "env", "FX_REPLACED", "env", "FX_PARENT_ONLY"), "new value=1\nnew\n<unset>"), "%s", out);
    CHECK(!strcmp(getenv("FX_REPLACED"), "old") && getenv("FX_NEW") == NULL, "the parent's environment changed");
    char *envp[] = {(char *)"ONLY=this", NULL};
    CHECK(!strcmp(run_probe(fresh(), (const char *const[]){"envcount", "env", "ONLY", NULL}, envp, 0), "1\nthis"), "envp: %s", out);
    CHECK(forkexec_setenv(a, "A=B", "x") == EINVAL && forkexec_setenv(a, "", "x") == EINVAL, "bad names are refused");
  } else if (!strcmp(t, "search-path")) {
    /* The lookup uses the child's PATH: the probe's directory, set by an action. */
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", probe);
    *strrchr(dir, '/') = 0;
    snprintf(buf, sizeof buf, "/nonexistent:%s", dir);
    forkexec_setenv(a, "PATH", buf);
    const char *base = strrchr(probe, '/') + 1;
    char *args[] = {(char *)"fxprobe", (char *)"echo", (char *)"found", NULL};
    int r, w;
    capture(a, &r, &w);
    pid_t pid = fork_before_exec(base, args, NULL, a, FORKEXEC_SEARCH_PATH);
    CHECK(pid > 0, "search: %s", strerror(errno));
    finish(pid, r, w);
    CHECK(!strcmp(out, "found"), "%s", out);
    errno = 0;
    CHECK(fork_before_exec(base, args, environ, NULL, FORKEXEC_SEARCH_PATH) == -1 && errno == ENOENT, "not on the parent's PATH: %s", strerror(errno));
  } else if (!strcmp(t, "execl-list")) {
    /* execl's argument list, const strings as written, ending with a null pointer */
    int r, w;
    capture(a, &r, &w);
    pid_t pid = fork_before_execl(probe, environ, a, 0, "fxprobe", "echo", "listed", (char *)NULL);
    CHECK(pid > 0, "execl: %s", strerror(errno));
    finish(pid, r, w);
    CHECK(!strcmp(out, "listed"), "%s", out);
    errno = 0;
    CHECK(fork_before_execl("/nonexistent/program", environ, NULL, 0, "x", (char *)NULL) == -1 && errno == ENOENT,
          "a missing program: %s", strerror(errno));
  } else if (!strcmp(t, "search-environ-path")) {
    /* execvpe's lookup: the caller's PATH finds the program, which runs with envp (whose PATH finds nothing) */
    char dir[2048];
    snprintf(dir, sizeof dir, "%s", probe);
    *strrchr(dir, '/') = 0;
    snprintf(buf, sizeof buf, "/nonexistent:%s", dir);
    setenv("PATH", buf, 1);
    const char *base = strrchr(probe, '/') + 1;
    char *args[] = {(char *)"fxprobe", (char *)"env", (char *)"PATH", NULL};
    char *env[] = {(char *)"PATH=/nowhere", NULL};
    int r, w;
    capture(a, &r, &w);
    pid_t pid = fork_before_exec(base, args, env, a, FORKEXEC_SEARCH_ENVIRON_PATH);
    CHECK(pid > 0, "search: %s", strerror(errno));
    finish(pid, r, w);
    CHECK(!strcmp(out, "/nowhere"), "%s", out);
    errno = 0;
    CHECK(fork_before_exec(base, args, env, NULL, FORKEXEC_SEARCH_PATH) == -1 && errno == ENOENT,
          "envp's PATH has no such program: %s", strerror(errno));
    unsetenv("PATH");
    errno = 0;
    CHECK(fork_before_exec(base, args, env, NULL, FORKEXEC_SEARCH_ENVIRON_PATH) == -1 && errno == ENOENT,
          "no PATH: the default one: %s", strerror(errno));
  } else if (!strcmp(t, "null-envp-is-empty")) {
    setenv("FX_SOMETHING", "x", 1);
    CHECK(!strcmp(run_probe(a, (const char *const[]){"envcount", NULL}, NULL, 0), "0"), "envp NULL: %s", out);
  } else if (!strcmp(t, "sticky-error")) {
    /* A failed add stays on the list: nothing starts, the first error comes back. */
    CHECK(forkexec_dup2(a, -1, 1) == EBADF, "negative fd");
    CHECK(forkexec_chdir(a, "/") == 0, "later adds still answer");
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, a, 0) == -1 && errno == EBADF, "errno %s", strerror(errno));
    forkexec_actions *b = fresh();
    CHECK(forkexec_cancel(b) == ECANCELED, "cancel");
    errno = 0;
    CHECK(fork_before_exec(probe, args, environ, b, 0) == -1 && errno == ECANCELED, "errno %s", strerror(errno));
    CHECK(no_zombie(), "a child was started");
  } else if (!strcmp(t, "errno-kept")) {
    errno = EDOM;
    char *args[] = {(char *)"fxprobe", (char *)"exit", (char *)"0", NULL};
    pid_t pid = fork_before_exec(probe, args, environ, NULL, 0);
    CHECK(pid > 0 && errno == EDOM, "errno %s after a started child", strerror(errno));
    CHECK(waitpid(pid, NULL, 0) == pid, "wait");
  } else if (!strcmp(t, "slow-path")) {
    slow_path_case();
  } else if (!strcmp(t, "enoent")) {
    char *args[] = {(char *)"missing", NULL};
    errno = 0;
    CHECK(fork_before_exec(path_in_scratch("missing"), args, NULL, a, 0) == -1, "returned a pid");
    CHECK(errno == ENOENT, "errno %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
  } else if (!strcmp(t, "eacces")) {
    char *file = strdup(path_in_scratch("not-executable"));
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    char *args[] = {(char *)"x", NULL};
    errno = 0;
    CHECK(fork_before_exec(file, args, NULL, a, 0) == -1 && errno == EACCES, "file: %s", strerror(errno));
    errno = 0;
    CHECK(fork_before_exec(scratch, args, NULL, a, 0) == -1 && errno == EACCES, "directory: %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
  } else if (!strcmp(t, "action-failure")) {
    forkexec_umask(a, 022);
    forkexec_chdir(a, path_in_scratch("no-such-dir"));
    char *args[] = {(char *)"fxprobe", NULL};
    errno = 0;
    CHECK(fork_before_exec(probe, args, NULL, a, 0) == -1 && errno == ENOENT, "errno %s", strerror(errno));
    forkexec_actions *b = fresh();
    forkexec_dup2(b, 987, 1); /* not open */
    errno = 0;
    CHECK(fork_before_exec(probe, args, NULL, b, 0) == -1 && errno == EBADF, "dup2 of a closed fd: %s", strerror(errno));
    CHECK(no_zombie(), "the failed child was not reaped");
  } else if (!strcmp(t, "report-survives-actions")) {
    /* Actions that hit every low fd (dup2 onto them, closefrom) must not break error reporting. */
    for (int fd = 3; fd < 40; fd++) forkexec_dup2(a, 2, fd);
    forkexec_closefrom(a, 3);
    char *args[] = {(char *)"missing", NULL};
    errno = 0;
    CHECK(fork_before_exec(path_in_scratch("missing"), args, NULL, a, 0) == -1 && errno == ENOENT, "errno %s", strerror(errno));
  } else if (!strcmp(t, "exit-on-failure-127") || !strcmp(t, "exit-on-failure-126")) {
    int status_wanted = atoi(t + strlen("exit-on-failure-"));
    forkexec_exit_on_failure(a, status_wanted);
    char *args[] = {(char *)"missing", NULL};
    pid_t pid = fork_before_exec(status_wanted == 127 ? path_in_scratch("missing") : scratch, args, NULL, a, 0);
    CHECK(pid > 0, "with exit_on_failure the pid comes back: %s", strerror(errno));
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == status_wanted, "status %#x", status);
    forkexec_actions *b = fresh();
    forkexec_exit_on_failure(b, 126);
    forkexec_chdir(b, "/no/such/dir");
    pid = fork_before_exec(probe, args, NULL, b, 0);
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 126, "action failure status %#x", status);
  } else if (!strcmp(t, "order")) {
    char *file = strdup(path_in_scratch("order.txt"));
    forkexec_open(a, 1, file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    forkexec_dup2(a, 1, 2);
    char *args[] = {(char *)"fxprobe", (char *)"echo", (char *)"out", (char *)"write", (char *)"2", (char *)"err", NULL};
    pid_t pid = fork_before_exec(probe, args, NULL, a, 0);
    int status;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "run");
    read_file(file, buf, sizeof buf);
    CHECK(!strcmp(buf, "out\nerr"), "file has %s", buf);
  } else if (!strcmp(t, "bad-arguments")) {
    CHECK(forkexec_dup2(a, -1, 1) == EBADF, "negative fd");
    CHECK(forkexec_sigignore(a, SIGKILL) == EINVAL, "SIGKILL cannot be ignored");
    CHECK(forkexec_sigdefault(a, 100000) == EINVAL, "unknown signal");
    CHECK(forkexec_exit_on_failure(a, 256) == EINVAL, "status above 255");
    CHECK(forkexec_setgroups(a, 1, NULL) == EINVAL, "NULL groups");
    CHECK(forkexec_chdir(NULL, "/") == EINVAL, "NULL actions");
    errno = 0;
    CHECK(fork_before_exec(NULL, NULL, NULL, NULL, 0) == -1 && errno == EINVAL, "NULL file");
  } else if (!strcmp(t, "many")) {
    /* No fd or process growth over many spawns. */
    int before = open("/dev/null", O_RDONLY);
    close(before);
    for (int i = 0; i < 300; i++) {
      forkexec_actions *b = forkexec_actions_new();
      forkexec_closefrom(b, 3);
      char *args[] = {(char *)"fxprobe", (char *)"exit", (char *)"0", NULL};
      pid_t pid = fork_before_exec(probe, args, NULL, b, 0);
      int status;
      CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "spawn %d", i);
      forkexec_actions_free(b);
    }
    int after = open("/dev/null", O_RDONLY);
    CHECK(after == before, "lowest free fd moved from %d to %d", before, after);
  } else {
    fprintf(stderr, "unknown case %s\n", t);
    return 2;
  }
  forkexec_actions_free(a);
  printf("ok %s\n", t);
  return 0;
}
