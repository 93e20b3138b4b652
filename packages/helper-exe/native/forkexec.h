/* forkexec.h: fork_before_exec for C, the call the forkexec C codemod emits in front of fork()+exec*().
 *
 * Build: cc -std=c99 -I packages/helper-exe/native prog.c packages/helper-exe/native/libforkexec.c \
 *          packages/helper-exe/native/action-core.c
 *
 * The child is created vfork-style (it shares the parent's memory until it execs, so nothing is
 * copied however big the parent is), runs the recorded actions in order using only
 * async-signal-safe calls, then execs. Action and exec failures come back to the parent as
 * -1 with errno, the failed child already reaped, or, with forkexec_exit_on_failure, as the
 * child's exit status. The codemod's fast path / slow path shape:
 *
 *   pid = fork_before_exec(file, argv, environ, fx, flags);  fast: nothing of the parent is copied
 *   if (pid < 0) pid = fork();                               slow: only when an action or the exec failed
 *   if (pid == 0) { ...the original child code, unchanged... }
 *
 * so a failure is reported by the original code running in a real child, with its own messages and
 * exit statuses. The failed fast child sends the usual SIGCHLD (a handler sees one signal with
 * nothing to reap); it is reaped before fork_before_exec returns. */
#ifndef FORKEXEC_H
#define FORKEXEC_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/select.h> /* sigset_t under strict -std=c99, where <signal.h> alone may not declare it */
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

extern char **environ; /* POSIX: the application declares it; the codemod passes it for exec*s without envp */

typedef struct forkexec_actions forkexec_actions; /* opaque, growable, keeps order */

forkexec_actions *forkexec_actions_new(void); /* NULL on ENOMEM */
void forkexec_actions_free(forkexec_actions *a);

/* Each returns 0, or an errno value (like posix_spawn_file_actions_*); actions run in the order added.
 * The first failure also stays on the list: fork_before_exec then starts nothing and returns -1 with it. */
int forkexec_dup2(forkexec_actions *a, int from, int to); /* as dup2: (fd, fd) only checks fd is open */
int forkexec_close(forkexec_actions *a, int fd); /* a closed fd is no failure, as for posix_spawn */
/* close(fd) checked by the child (`if (close(fd) < 0) …`): fails with EBADF when fd is not open */
int forkexec_close_checked(forkexec_actions *a, int fd);
int forkexec_open(forkexec_actions *a, int fd, const char *path, int flags, mode_t mode); /* open then dup2 onto fd */
int forkexec_chdir(forkexec_actions *a, const char *path);
int forkexec_fchdir(forkexec_actions *a, int dirfd);
int forkexec_setsid(forkexec_actions *a);
int forkexec_setpgid(forkexec_actions *a, pid_t pgid); /* setpgid(0, pgid) */
int forkexec_umask(forkexec_actions *a, mode_t mask);
int forkexec_sigdefault(forkexec_actions *a, int sig); /* sig 0: every signal */
int forkexec_sigignore(forkexec_actions *a, int sig);
/* sigaction(sig, act, NULL) as the exec leaves it: SIG_IGN stays ignored, SIG_DFL or a handler is SIG_DFL; NULL act:
 * nothing (a query). SIGCHLD with SA_NOCLDWAIT, SIGKILL or SIGSTOP: fork_before_exec fails (the slow path runs it) */
struct sigaction; /* declared here too: under strict -std=c99 <signal.h> may not */
int forkexec_sigaction(forkexec_actions *a, int sig, const struct sigaction *act);
int forkexec_sigmask(forkexec_actions *a, const sigset_t *set); /* sigprocmask(SIG_SETMASK, set) */
/* sigprocmask(how, set, NULL) in the child, whose mask starts as the caller's: SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK */
int forkexec_sigprocmask(forkexec_actions *a, int how, const sigset_t *set);
int forkexec_closefrom(forkexec_actions *a, int lowfd);
/* Closes every fd from low to high (inclusive; high < low: none) except the nkeep (at most 64) fds in keep: a child's
 * loop `for (fd = 3; fd < getdtablesize(); fd++) if (fd != keep) close(fd);`, whose fds above the bound stay open. */
int forkexec_close_range(forkexec_actions *a, int low, int high, const int *keep, size_t nkeep);
/* The fd open() would return in the child after the actions so far: the lowest fd that is neither open in the caller
 * nor opened by them (their closes counted). Asked in the parent while recording; -1 when none is below RLIMIT_NOFILE. */
int forkexec_next_fd(const forkexec_actions *a);
int forkexec_setgroups(forkexec_actions *a, size_t n, const gid_t *groups);
int forkexec_setgid(forkexec_actions *a, gid_t gid);
int forkexec_setuid(forkexec_actions *a, uid_t uid);
int forkexec_setreuid(forkexec_actions *a, uid_t ruid, uid_t euid); /* (uid_t)-1: unchanged, as setreuid */
int forkexec_setregid(forkexec_actions *a, gid_t rgid, gid_t egid);
int forkexec_setresuid(forkexec_actions *a, uid_t ruid, uid_t euid, uid_t suid);
int forkexec_setresgid(forkexec_actions *a, gid_t rgid, gid_t egid, gid_t sgid);
/* initgroups(user, group): the group list getgrouplist() gives now, in the caller, recorded as setgroups */
int forkexec_initgroups(forkexec_actions *a, const char *user, gid_t group);
/* ioctl(fd, TIOCSCTTY, arg): the terminal on fd becomes the child's controlling terminal (after a setsid) */
int forkexec_setctty(forkexec_actions *a, int fd, int arg);
/* tcsetpgrp(fd, getpgrp()): the child's process group becomes the foreground one of the terminal on fd */
int forkexec_foreground(forkexec_actions *a, int fd);
/* fcntl(fd, F_SETFD, flags): FD_CLOEXEC set (the fd closes at the exec) or cleared (0) */
int forkexec_setfd(forkexec_actions *a, int fd, int flags);
int forkexec_setrlimit(forkexec_actions *a, int resource, const struct rlimit *rl);
int forkexec_nice(forkexec_actions *a, int inc);
int forkexec_setenv(forkexec_actions *a, const char *name, const char *value); /* on the child's envp copy */
int forkexec_unsetenv(forkexec_actions *a, const char *name);
/* The child's code takes a path the actions cannot say: fork_before_exec returns -1 with ECANCELED. */
int forkexec_cancel(forkexec_actions *a);
/* fflush(f) as the child would make it on its copy of f, asked now: with nothing pending and f not reading, it makes
 * no call and changes nothing the exec keeps, so nothing is recorded; otherwise (output to write, a read position to
 * seek back, a wide stream, f NULL for every stream, a libc without <stdio_ext.h>) it cancels, and the slow path's
 * child flushes for real. */
int forkexec_fflush(forkexec_actions *a, FILE *f);
/* fclose(f) in the child: that flush, then close(fileno(f)); a stream with no fd (fmemopen, fopencookie) cancels. */
int forkexec_fclose(forkexec_actions *a, FILE *f);
/* On exec (or action) failure the child _exit(status)s instead of reporting the error,
 * exactly like the original `exec...; _exit(127);` code, and fork_before_exec returns the pid. */
int forkexec_exit_on_failure(forkexec_actions *a, int status);

#define FORKEXEC_SEARCH_PATH 1 /* execvp-style lookup, with the child's PATH */
/* execvpe-style lookup: with the PATH of the caller's environ (read at the call), while the program gets envp */
#define FORKEXEC_SEARCH_ENVIRON_PATH 2

/* Creates the child (vfork-style: CLONE_VM|CLONE_VFORK or vfork, never a copying fork), runs the actions in
 * order using only async-signal-safe calls, then execs. envp as execve's: NULL is an empty environment
 * (pass environ for the current one). errno is left as it was when a child is started.
 * Returns the child's pid; or -1 with errno set when an action or the exec failed (reported to the parent
 * through a close-on-exec pipe), unless forkexec_exit_on_failure was set. a may be NULL. */
pid_t fork_before_exec(const char *file, char *const argv[], char *const envp[], const forkexec_actions *a, int flags);
/* The same with execl's list: the arguments after flags, ending with a null pointer ((char *)NULL). */
pid_t fork_before_execl(const char *file, char *const envp[], const forkexec_actions *a, int flags, const char *arg,
                        ...);

#ifdef __cplusplus
}
#endif

#endif
