/* libforkexec.c: the C fork_before_exec (see forkexec.h), on the action core it shares with the
 * helper program (action-core.c). */
#define _GNU_SOURCE
#include "forkexec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <stdio_ext.h> /* __fpending, __freading: glibc and musl */
#include <wchar.h>     /* fwide */
#include <sched.h>
#include <sys/mman.h>
#endif

#include "action-core.h"

struct fx_env_op {
  char *name;
  char *value; /* NULL: unset */
};

struct forkexec_actions {
  unsigned char *buf; /* encoded records, in the order added */
  size_t len, cap;
  struct fx_env_op *env;
  size_t nenv, capenv;
  int exit_on_failure;
  int exit_status;
  int error; /* the first failure of an add, or ECANCELED: fork_before_exec then starts nothing */
};

forkexec_actions *forkexec_actions_new(void) {
  return calloc(1, sizeof(forkexec_actions));
}

void forkexec_actions_free(forkexec_actions *a) {
  if (!a) return;
  for (size_t i = 0; i < a->nenv; i++) {
    free(a->env[i].name);
    free(a->env[i].value);
  }
  free(a->env);
  free(a->buf);
  free(a);
}

/* Keeps the first failure on the list (so one check at fork_before_exec covers every add) and returns it. */
static int fx_note(forkexec_actions *a, int err) {
  if (a && err && !a->error) a->error = err;
  return err;
}

static int fx_reserve(forkexec_actions *a, size_t more) {
  if (!a) return EINVAL;
  if (a->len + more <= a->cap) return 0;
  size_t cap = a->cap ? a->cap : 64;
  while (cap < a->len + more) cap *= 2;
  unsigned char *buf = realloc(a->buf, cap);
  if (!buf) return fx_note(a, ENOMEM);
  a->buf = buf;
  a->cap = cap;
  return 0;
}

/* Appends one record: op then n 32-bit fields (already in the core's encoding). */
static int fx_add(forkexec_actions *a, uint32_t op, int n, const uint32_t *fields) {
  int err = fx_reserve(a, 4 + 4 * (size_t)n);
  if (err) return err;
  fx_put32(a->buf + a->len, op);
  a->len += 4;
  for (int i = 0; i < n; i++, a->len += 4) fx_put32(a->buf + a->len, fields[i]);
  return 0;
}

static int fx_add_str(forkexec_actions *a, const char *s) {
  if (!s) return fx_note(a, EINVAL);
  size_t n = strlen(s);
  if (n > UINT32_MAX - 1) return fx_note(a, ENAMETOOLONG);
  int err = fx_reserve(a, 4 + n + 1);
  if (err) return err;
  fx_put32(a->buf + a->len, (uint32_t)n);
  memcpy(a->buf + a->len + 4, s, n + 1);
  a->len += 4 + n + 1;
  return 0;
}

static int fx_fd_ok(int fd) {
  return fd >= 0;
}

int forkexec_dup2(forkexec_actions *a, int from, int to) {
  if (!fx_fd_ok(from) || !fx_fd_ok(to)) return fx_note(a, EBADF);
  uint32_t f[2] = {(uint32_t)from, (uint32_t)to};
  return from == to ? fx_add(a, FX_CHECKFD, 1, f) : fx_add(a, FX_DUP2, 2, f); /* POSIX dup2(fd, fd) changes nothing */
}

int forkexec_close(forkexec_actions *a, int fd) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  uint32_t f[1] = {(uint32_t)fd};
  return fx_add(a, FX_CLOSE, 1, f);
}

/* close() whose failure the child checks: the check dup2(fd, fd) makes (EBADF unless fd is open), then the close */
int forkexec_close_checked(forkexec_actions *a, int fd) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  size_t mark = a ? a->len : 0;
  uint32_t f[1] = {(uint32_t)fd};
  int err = fx_add(a, FX_CHECKFD, 1, f);
  if (!err && (err = fx_add(a, FX_CLOSE, 1, f)) != 0) a->len = mark;
  return err;
}

int forkexec_open(forkexec_actions *a, int fd, const char *path, int flags, mode_t mode) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  if (!path) return fx_note(a, EINVAL);
  size_t mark = a ? a->len : 0;
  uint32_t f[3] = {(uint32_t)fd, (uint32_t)flags, (uint32_t)mode};
  int err = fx_add(a, FX_OPEN, 3, f);
  if (!err && (err = fx_add_str(a, path)) != 0) a->len = mark;
  return err;
}

int forkexec_chdir(forkexec_actions *a, const char *path) {
  if (!path) return fx_note(a, EINVAL);
  size_t mark = a ? a->len : 0;
  int err = fx_add(a, FX_CHDIR, 0, NULL);
  if (!err && (err = fx_add_str(a, path)) != 0) a->len = mark;
  return err;
}

int forkexec_fchdir(forkexec_actions *a, int dirfd) {
  if (!fx_fd_ok(dirfd)) return fx_note(a, EBADF);
  uint32_t f[1] = {(uint32_t)dirfd};
  return fx_add(a, FX_FCHDIR, 1, f);
}

int forkexec_setsid(forkexec_actions *a) {
  return fx_add(a, FX_SETSID, 0, NULL);
}

int forkexec_setpgid(forkexec_actions *a, pid_t pgid) {
  if (pgid < 0) return fx_note(a, EINVAL);
  uint32_t f[1] = {(uint32_t)pgid};
  return fx_add(a, FX_SETPGID, 1, f);
}

int forkexec_umask(forkexec_actions *a, mode_t mask) {
  uint32_t f[1] = {(uint32_t)(mask & 0777)};
  return fx_add(a, FX_UMASK, 1, f);
}

static int fx_sig_ok(int sig, int allow_all) {
  return (allow_all && sig == 0) || (sig > 0 && sig < FX_NSIG);
}

int forkexec_sigdefault(forkexec_actions *a, int sig) {
  if (!fx_sig_ok(sig, 1)) return fx_note(a, EINVAL);
  uint32_t f[2] = {1, (uint32_t)sig};
  return fx_add(a, FX_SIGDEFAULT, 2, f);
}

int forkexec_sigignore(forkexec_actions *a, int sig) {
  if (!fx_sig_ok(sig, 0) || sig == SIGKILL || sig == SIGSTOP) return fx_note(a, EINVAL);
  uint32_t f[2] = {1, (uint32_t)sig};
  return fx_add(a, FX_SIGIGNORE, 2, f);
}

int forkexec_sigaction(forkexec_actions *a, int sig, const struct sigaction *act) {
  if (!fx_sig_ok(sig, 0)) return fx_note(a, EINVAL); /* sigdefault's 0 (every signal) is no signal here */
  if (!act) return 0;                                   /* only asks for the old action */
  /* SA_NOCLDWAIT may outlive the exec where SIG_DFL would not say it: refused, the slow path runs sigaction */
  if (sig == SIGCHLD && act->sa_handler != SIG_IGN && (act->sa_flags & SA_NOCLDWAIT)) return fx_note(a, ENOTSUP);
  /* a handler the exec would reset: SIG_DFL from the start (mask and flags only matter while a handler runs) */
  return act->sa_handler == SIG_IGN ? forkexec_sigignore(a, sig) : sig == SIGKILL || sig == SIGSTOP ? fx_note(a, EINVAL)
                                                                                                   : forkexec_sigdefault(a, sig);
}

int forkexec_sigprocmask(forkexec_actions *a, int how, const sigset_t *set) {
  int op = how == SIG_SETMASK ? FX_SIGMASK : how == SIG_BLOCK ? FX_SIGBLOCK : how == SIG_UNBLOCK ? FX_SIGUNBLOCK : 0;
  if (!set || !op) return fx_note(a, EINVAL);
  uint32_t f[FX_NSIG];
  int n = 0;
  for (int s = 1; s < FX_NSIG; s++)
    if (sigismember(set, s) == 1) f[++n] = (uint32_t)s;
  f[0] = (uint32_t)n;
  return fx_add(a, op, n + 1, f);
}

int forkexec_sigmask(forkexec_actions *a, const sigset_t *set) {
  return forkexec_sigprocmask(a, SIG_SETMASK, set);
}

int forkexec_next_fd(const forkexec_actions *a) {
  int saved = errno;
  struct rlimit rl;
  long limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : INT_MAX;
  int found = -1;
  for (long fd = 0; fd < limit && found < 0; fd++) {
    int open_now = fcntl((int)fd, F_GETFD) >= 0;
    if (!fx_open_after(a ? a->buf : NULL, a ? a->len : 0, (int)fd, open_now)) found = (int)fd;
  }
  errno = saved;
  return found;
}

int forkexec_closefrom(forkexec_actions *a, int lowfd) {
  if (!fx_fd_ok(lowfd)) return fx_note(a, EBADF);
  uint32_t f[1] = {(uint32_t)lowfd};
  return fx_add(a, FX_CLOSEFROM, 1, f);
}

int forkexec_close_range(forkexec_actions *a, int low, int high, const int *keep, size_t nkeep) {
  if (!fx_fd_ok(low)) return fx_note(a, EBADF);
  if (nkeep > FX_MAX_KEEP || (nkeep && !keep)) return fx_note(a, EINVAL);
  if (high < low) return 0; /* an empty range: the loop it stands for closes nothing */
  uint32_t f[3] = {(uint32_t)low, (uint32_t)high, (uint32_t)nkeep};
  int err = fx_add(a, FX_CLOSERANGE, 3, f);
  for (size_t i = 0; i < nkeep && !err; i++) {
    if ((err = fx_reserve(a, 4)) != 0) break;
    fx_put32(a->buf + a->len, (uint32_t)keep[i]);
    a->len += 4;
  }
  return err;
}

int forkexec_setgroups(forkexec_actions *a, size_t n, const gid_t *groups) {
  if (n > FX_MAX_GROUPS || (n && !groups)) return fx_note(a, EINVAL);
  size_t mark = a ? a->len : 0;
  uint32_t count[1] = {(uint32_t)n};
  int err = fx_add(a, FX_SETGROUPS, 1, count);
  for (size_t i = 0; i < n && !err; i++) {
    if ((err = fx_reserve(a, 4)) != 0) break;
    fx_put32(a->buf + a->len, (uint32_t)groups[i]);
    a->len += 4;
  }
  if (err && a) a->len = mark;
  return err;
}

int forkexec_setgid(forkexec_actions *a, gid_t gid) {
  uint32_t f[1] = {(uint32_t)gid};
  return fx_add(a, FX_SETGID, 1, f);
}

int forkexec_setuid(forkexec_actions *a, uid_t uid) {
  uint32_t f[1] = {(uint32_t)uid};
  return fx_add(a, FX_SETUID, 1, f);
}

int forkexec_setreuid(forkexec_actions *a, uid_t ruid, uid_t euid) {
  uint32_t f[2] = {(uint32_t)ruid, (uint32_t)euid};
  return fx_add(a, FX_SETREUID, 2, f);
}

int forkexec_setregid(forkexec_actions *a, gid_t rgid, gid_t egid) {
  uint32_t f[2] = {(uint32_t)rgid, (uint32_t)egid};
  return fx_add(a, FX_SETREGID, 2, f);
}

int forkexec_setresuid(forkexec_actions *a, uid_t ruid, uid_t euid, uid_t suid) {
  uint32_t f[3] = {(uint32_t)ruid, (uint32_t)euid, (uint32_t)suid};
  return fx_add(a, FX_SETRESUID, 3, f);
}

int forkexec_setresgid(forkexec_actions *a, gid_t rgid, gid_t egid, gid_t sgid) {
  uint32_t f[3] = {(uint32_t)rgid, (uint32_t)egid, (uint32_t)sgid};
  return fx_add(a, FX_SETRESGID, 3, f);
}

/* initgroups is getgrouplist (the same group database, read now by the parent) then setgroups: glibc's and musl's
 * initgroups are exactly that. A list longer than the action holds is a failure, so the original runs. */
#ifdef __ELF__
/* Weak: a static build links getgrouplist (and glibc's warning about NSS in static programs) only when the program
 * calls initgroups itself, which is in the same archive member; otherwise the recording fails and the slow path runs. */
#pragma weak getgrouplist
#endif

int forkexec_initgroups(forkexec_actions *a, const char *user, gid_t group) {
  if (!user) return fx_note(a, EINVAL);
#ifdef __ELF__
  int (*const linked)(const char *, gid_t, gid_t *, int *) = getgrouplist;
  if (!linked) return fx_note(a, ENOSYS);
#endif
  int saved = errno;
  for (int room = 64;; room *= 2) {
    gid_t *groups = malloc((size_t)room * sizeof *groups);
    if (!groups) return fx_note(a, ENOMEM);
    int n = room;
#ifdef __APPLE__
    int found = getgrouplist(user, (int)group, (int *)groups, &n);
#else
    int found = getgrouplist(user, group, groups, &n);
#endif
    int err = found >= 0 ? forkexec_setgroups(a, (size_t)n, groups) : room > FX_MAX_GROUPS ? fx_note(a, EINVAL) : -1;
    free(groups);
    if (err >= 0) {
      errno = saved;
      return err;
    }
  }
}

int forkexec_setctty(forkexec_actions *a, int fd, int arg) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  uint32_t f[2] = {(uint32_t)fd, (uint32_t)arg};
  return fx_add(a, FX_SETCTTY, 2, f);
}

int forkexec_foreground(forkexec_actions *a, int fd) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  uint32_t f[1] = {(uint32_t)fd};
  return fx_add(a, FX_FOREGROUND, 1, f);
}

int forkexec_setfd(forkexec_actions *a, int fd, int flags) {
  if (!fx_fd_ok(fd)) return fx_note(a, EBADF);
  uint32_t f[2] = {(uint32_t)fd, (uint32_t)flags};
  return fx_add(a, FX_SETFD, 2, f);
}

int forkexec_setrlimit(forkexec_actions *a, int resource, const struct rlimit *rl) {
  if (!rl || resource < 0) return fx_note(a, EINVAL);
  uint64_t soft = rl->rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl->rlim_cur;
  uint64_t hard = rl->rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl->rlim_max;
  uint32_t f[5] = {(uint32_t)resource, (uint32_t)soft, (uint32_t)(soft >> 32), (uint32_t)hard, (uint32_t)(hard >> 32)};
  return fx_add(a, FX_SETRLIMIT, 5, f);
}

int forkexec_nice(forkexec_actions *a, int inc) {
  uint32_t f[1] = {(uint32_t)inc};
  return fx_add(a, FX_NICE, 1, f);
}

static int fx_env_op(forkexec_actions *a, const char *name, const char *value) {
  if (!a) return fx_note(a, EINVAL);
  if (!name || !*name || strchr(name, '=')) return fx_note(a, EINVAL);
  if (a->nenv == a->capenv) {
    size_t cap = a->capenv ? a->capenv * 2 : 8;
    struct fx_env_op *env = realloc(a->env, cap * sizeof *env);
    if (!env) return fx_note(a, ENOMEM);
    a->env = env;
    a->capenv = cap;
  }
  char *n = strdup(name), *v = value ? strdup(value) : NULL;
  if (!n || (value && !v)) {
    free(n);
    free(v);
    return fx_note(a, ENOMEM);
  }
  a->env[a->nenv].name = n;
  a->env[a->nenv].value = v;
  a->nenv++;
  return 0;
}

int forkexec_setenv(forkexec_actions *a, const char *name, const char *value) {
  return value ? fx_env_op(a, name, value) : EINVAL;
}

int forkexec_unsetenv(forkexec_actions *a, const char *name) {
  return fx_env_op(a, name, NULL);
}

int forkexec_cancel(forkexec_actions *a) {
  return a ? fx_note(a, ECANCELED) : EINVAL;
}

/* glibc's fflush of a writing stream with an empty buffer (_IO_new_file_sync) and musl's (fflush.c) make no call: the
 * write is skipped, and the seek is made only for a reading stream's unread input; what they reset is the child's
 * memory. A wide stream is left to the slow path (its conversion state is the libc's). */
int forkexec_fflush(forkexec_actions *a, FILE *f) {
  if (!a) return EINVAL;
#ifdef __linux__
  if (f && __fpending(f) == 0 && !__freading(f) && fwide(f, 0) <= 0) return 0;
#endif
  return forkexec_cancel(a);
}

int forkexec_fclose(forkexec_actions *a, FILE *f) {
  int err = forkexec_fflush(a, f);
  if (err) return err;
  int fd = fileno(f);
  return fd < 0 ? forkexec_cancel(a) : forkexec_close(a, fd);
}

int forkexec_exit_on_failure(forkexec_actions *a, int status) {
  if (!a || status < 0 || status > 255) return fx_note(a, EINVAL);
  a->exit_on_failure = 1;
  a->exit_status = status;
  return 0;
}

static int fx_env_matches(const char *entry, const char *name) {
  size_t n = strlen(name);
  return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* The child's environment: base with the setenv/unsetenv operations applied in order (parent side). */
static char **fx_build_env(char *const base[], const forkexec_actions *a, char ***owned, size_t *nowned) {
  size_t n = 0;
  while (base && base[n]) n++;
  char **env = malloc((n + a->nenv + 1) * sizeof *env);
  char **strings = malloc((a->nenv + 1) * sizeof *strings);
  if (!env || !strings) {
    free(env);
    free(strings);
    return NULL;
  }
  size_t count = 0, made = 0;
  for (size_t i = 0; i < n; i++) env[count++] = base[i];
  for (size_t k = 0; k < a->nenv; k++) {
    const struct fx_env_op *op = &a->env[k];
    size_t w = 0;
    for (size_t i = 0; i < count; i++)
      if (!fx_env_matches(env[i], op->name)) env[w++] = env[i];
    count = w;
    if (op->value) {
      size_t ln = strlen(op->name), lv = strlen(op->value);
      char *s = malloc(ln + lv + 2);
      if (!s) {
        for (size_t i = 0; i < made; i++) free(strings[i]);
        free(strings);
        free(env);
        return NULL;
      }
      memcpy(s, op->name, ln);
      s[ln] = '=';
      memcpy(s + ln + 1, op->value, lv + 1);
      strings[made++] = s;
      env[count++] = s;
    }
  }
  env[count] = NULL;
  *owned = strings;
  *nowned = made;
  return env;
}

/* Everything the child needs, prepared by the parent: the child only reads it. */
struct fx_child_args {
  const char *file;
  char *const *argv;
  char *const *envp;
  const unsigned char *actions;
  size_t actions_len;
  int maxfd;
  int search;
  int exit_on_failure, exit_status;
  int report_fd;
  int report_read_fd; /* the parent's end, which the child inherits: closed first, so no action names it */
  sigset_t old_mask;
  char *pathbuf;
  char **sh_argv;
  const char *path; /* FORKEXEC_SEARCH_ENVIRON_PATH: the caller's PATH, or its default when unset */
};

/* The PATH of the caller's environ, as execvpe searches it; unset: the default execvp uses. */
static const char *fx_environ_path(void) {
  size_t n = strlen("PATH=");
  for (char **e = environ; e && *e; e++)
    if (strncmp(*e, "PATH=", n) == 0) return *e + n;
  return "/bin:/usr/bin";
}

static void fx_report(int fd, int err, int index) {
  unsigned char frame[8];
  fx_put32(frame, (uint32_t)err);
  fx_put32(frame + 4, (uint32_t)index);
  ssize_t unused = write(fd, frame, sizeof frame);
  (void)unused;
}

static int fx_child(void *arg) {
  struct fx_child_args *c = arg;
  int report = c->report_fd, index = -1;
  /* A handler of the parent must never run on the shared memory: back to SIG_DFL, then the parent's mask. */
  for (int s = 1; s < FX_NSIG; s++) {
    struct sigaction sa;
    if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL) fx_disposition(s, SIG_DFL);
  }
  sigprocmask(SIG_SETMASK, &c->old_mask, NULL);
  /* the read end takes the lowest free fd, which may be one the actions name as closed (dup2 from it must fail) */
  close(c->report_read_fd);
  int err = fx_move_above(&report, c->maxfd);
  if (!err) err = fx_apply_actions(c->actions, c->actions_len, report, &index);
  if (!err) {
    index = -1;
    err = c->path ? fx_exec_path(c->file, c->argv, c->envp, c->path, c->pathbuf, c->sh_argv)
                  : fx_exec(c->file, c->argv, c->envp, c->search, c->pathbuf, c->sh_argv);
  }
  if (c->exit_on_failure) _exit(c->exit_status);
  fx_report(report, err, index);
  _exit(127);
}

#ifdef __linux__
#define FX_STACK_SIZE (64 * 1024 + FX_PATH_BUF)
#endif

/* Reads the failure report of the child; 0 when the pipe closed empty (the exec worked). */
static int fx_read_report(int fd) {
  unsigned char frame[8];
  size_t got = 0;
  while (got < sizeof frame) {
    ssize_t r = read(fd, frame + got, sizeof frame - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got == sizeof frame ? (int)fx_get32(frame) : 0;
}

static char *fx_no_env[] = {NULL};

pid_t fork_before_exec(const char *file, char *const argv[], char *const envp[], const forkexec_actions *a, int flags) {
  int saved_errno = errno;
  if (!file || !argv) {
    errno = EINVAL;
    return -1;
  }
  if (a && a->error) { /* an add failed or the caller cancelled: start nothing */
    errno = a->error;
    return -1;
  }
  struct fx_child_args c;
  memset(&c, 0, sizeof c);
  c.file = file;
  c.argv = argv;
  c.envp = envp ? envp : fx_no_env; /* as execve: NULL is an empty environment */
  c.search = (flags & (FORKEXEC_SEARCH_PATH | FORKEXEC_SEARCH_ENVIRON_PATH)) != 0;
  /* execvpe searches the PATH of the process's environment, not of the envp it runs the program with */
  if (flags & FORKEXEC_SEARCH_ENVIRON_PATH) c.path = fx_environ_path();
  c.maxfd = -1;
  char **owned = NULL, **env = NULL;
  size_t nowned = 0;
  int err = 0, index = 0;
  if (a) {
    c.actions = a->buf;
    c.actions_len = a->len;
    c.exit_on_failure = a->exit_on_failure;
    c.exit_status = a->exit_status;
    if ((err = fx_check_actions(a->buf, a->len, &index, &c.maxfd)) != 0) {
      errno = err;
      return -1;
    }
    if (a->nenv) {
      if (!(env = fx_build_env(c.envp, a, &owned, &nowned))) {
        errno = ENOMEM;
        return -1;
      }
      c.envp = env;
    }
  }
  size_t argc = 0;
  while (argv[argc]) argc++;
  if (c.search) {
    c.pathbuf = malloc(FX_PATH_BUF);
    c.sh_argv = malloc((argc + 2) * sizeof *c.sh_argv);
  }
  int pipefd[2] = {-1, -1};
  pid_t pid = -1;
  void *stack = NULL;
  if ((c.search && (!c.pathbuf || !c.sh_argv)) || pipe2(pipefd, O_CLOEXEC) < 0) {
    err = c.search && (!c.pathbuf || !c.sh_argv) ? ENOMEM : errno;
    goto done;
  }
  c.report_fd = pipefd[1];
  c.report_read_fd = pipefd[0];
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &c.old_mask);
#ifdef __linux__
  stack = mmap(NULL, FX_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    stack = NULL;
    err = errno;
  } else {
    pid = clone(fx_child, (char *)stack + FX_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
    if (pid < 0) err = errno;
  }
#else
  pid = vfork();
  if (pid == 0) fx_child(&c);
  if (pid < 0) err = errno;
#endif
  close(pipefd[1]);
  if (pid > 0 && (err = fx_read_report(pipefd[0])) != 0) {
    /* The child failed and _exited. Reap it while SIGCHLD is still blocked, so neither a zombie nor a
     * status is left for the caller's waitpid (its SIGCHLD handler sees one signal, with nothing to reap). */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    pid = -1;
  }
  sigprocmask(SIG_SETMASK, &c.old_mask, NULL);
  close(pipefd[0]);
done:
  if (stack) munmap(stack, FX_STACK_SIZE);
  free(c.pathbuf);
  free(c.sh_argv);
  for (size_t i = 0; i < nowned; i++) free(owned[i]);
  free(owned);
  free(env);
  errno = pid < 0 ? (err ? err : EINVAL) : saved_errno;
  return pid;
}

pid_t fork_before_execl(const char *file, char *const envp[], const forkexec_actions *a, int flags, const char *arg,
                        ...) {
  size_t n = 0;
  va_list ap;
  va_start(ap, arg);
  for (const char *p = arg; p; p = va_arg(ap, const char *)) n++;
  va_end(ap);
  char **argv = malloc((n + 1) * sizeof *argv);
  if (!argv) {
    errno = ENOMEM;
    return -1;
  }
  /* exec's argv is char *const[] but never written: the strings stay the caller's, const as execl takes them */
  union {
    const char *in;
    char *out;
  } s;
  va_start(ap, arg);
  s.in = arg;
  for (size_t i = 0; i < n; i++, s.in = va_arg(ap, const char *)) argv[i] = s.out;
  va_end(ap);
  argv[n] = NULL;
  pid_t pid = fork_before_exec(file, argv, envp, a, flags);
  int err = errno;
  free(argv);
  errno = err;
  return pid;
}
