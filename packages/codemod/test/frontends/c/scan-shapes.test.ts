import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanC } from '../../../src/frontends/c/index.js';
import type { ForkSite } from '../../../src/model.js';
import { runScan } from '../../../src/scan/index.js';

// The census on the shapes the real-code labels (test/fixtures/census-labels.json) found it getting wrong: one small
// project per shape, written as real files and scanned whole, as `forkexec scan DIR` does.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-shapes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a project (a Makefile marks it as one) and scans it. */
async function scanProject(name: string, files: Record<string, string>): Promise<ForkSite[]> {
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'Makefile'), 'all:\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(root, file), text);
  const report = await runScan([root], { jobs: 0 });
  expect(report.errors).toEqual([]);
  return report.sites;
}

/** [file:line, call, class] of every site. */
const rows = (sites: ForkSite[]) => sites.map((s) => [`${path.basename(s.file)}:${s.line}`, s.call, s.class]);

test("a fork wrapper's calls in other files are sites, classed by the caller's child (tmux's fdforkpty)", async () => {
  const sites = await scanProject('wrapper-elsewhere', {
    'compat.c': `#include <unistd.h>
pid_t xfork(void)
{
	pid_t pid = fork();
	if (pid == -1)
		_exit(1);
	return pid;
}
`,
    // names neither fork nor exec: read because it calls the wrapper
    'job.c': `#include <unistd.h>
void run_job(char **argv)
{
	pid_t pid = xfork();
	if (pid == 0) {
		run_it(argv);
		_exit(127);
	}
}
`,
    'spawn.c': `#include <unistd.h>
void run_it(char **argv) { execvp(argv[0], argv); }
void spawn(char **argv)
{
	if (xfork() == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
}
`,
  });
  expect(rows(sites)).toEqual([
    ['compat.c:4', 'fork', 'wrapper'],
    ['job.c:4', 'xfork', 'exec-via-helper'],
    ['spawn.c:5', 'xfork', 'fork+exec'],
  ]);
});

test('a macro for a never-returning function never returns; so does one behind an attribute macro', async () => {
  const sites = await scanProject('noreturn-macros', {
    'log.h': `void sshfatal(const char *, ...) __attribute__((noreturn));
#define fatal(...) sshfatal(__VA_ARGS__)
#define ATTR_(a) __attribute__((a))
static void ATTR_(noreturn)
die_now(int code)
{
	cleanup();
	exit_hard(code);
}
`,
    'main.c': `#include <unistd.h>
#include "log.h"
void detach(void)
{
	switch (fork()) {
	case 0:
		break;
	default:
		fatal("parent is done");
	}
}
int tests(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		run_test();
		die_now(0);
	}
	return pid;
}
`,
  });
  // The parent of detach() never returns: the child carries on (daemonizing), not a wrapper; the test child ends in
  // die_now(): it never returns to the caller either.
  expect(rows(sites)).toEqual([
    ['main.c:5', 'fork', 'fork-only'],
    ['main.c:14', 'fork', 'fork-only'],
  ]);
});

test('(pid_t)-1 is a cast: the child of `if(pid == (pid_t)-1) ... else if(pid == 0)` is found (acutest)', async () => {
  const sites = await scanProject('cast-minus-one', {
    'acutest.h': `#include <unistd.h>
static void finish(int code) { cleanup(); exit(code); }
static void run_one(int index)
{
    int state = 1;
    if(!no_exec) {
#if defined(UNIX_)
        pid_t pid;
        int exit_code;
        pid = fork();
        if(pid == (pid_t)-1) {
            error_("Cannot fork");
        } else if(pid == 0) {
            state = run_test(index);
            finish(state);
        } else {
            waitpid(pid, &exit_code, 0);
        }
#endif
    }
}
`,
  });
  // read as a subtraction, the first test was unknown and the child seemed to fall out and return: a wrapper
  expect(rows(sites)).toEqual([['acutest.h:10', 'fork', 'fork-only']]);
});

test('a child that only forks again, through a fork wrapper in a helper, runs no exec of its own (nnn)', async () => {
  const sites = await scanProject('forks-again', {
    'nnn.c': `#include <unistd.h>
static pid_t xfork(void)
{
	pid_t p = fork();
	if (p > 0)
		ignore_signals();
	return p;
}
static void spawn(char **argv)
{
	if (xfork() == 0) {
		execvp(argv[0], argv);
		_exit(1);
	}
}
void run_plugin(char **argv)
{
	pid_t p = fork();
	if (!p) {
		spawn(argv);
		_exit(0);
	}
}
`,
  });
  expect(rows(sites)).toEqual([
    ['nnn.c:4', 'fork', 'wrapper'],
    ['nnn.c:11', 'xfork', 'fork+exec'],
    ['nnn.c:18', 'fork', 'fork-only'],
  ]);
});

test('a detaching wrapper (the middle process exits, the grandchild returns the pid) is a wrapper', async () => {
  const sites = await scanProject('detaching-wrapper', {
    'xfork.c': `#include <unistd.h>
pid_t xfork(int detach)
{
	pid_t p = fork();
	if (p == 0 && detach) {
		p = fork();
		if (p > 0)
			_exit(0);
		else if (p == 0) {
			setsid();
			return p;
		}
		_exit(1);
	}
	return p;
}
`,
  });
  expect(rows(sites)).toEqual([
    ['xfork.c:4', 'fork', 'wrapper'],
    ['xfork.c:6', 'fork', 'wrapper'],
  ]);
});

test('a child that keeps no pid and falls back into the caller is no wrapper (finit do_shutdown)', async () => {
  const sites = await scanProject('no-pid-kept', {
    'sig.c': `#include <unistd.h>
#include <sys/reboot.h>
void do_shutdown(int op)
{
	if (vfork())
		return;
	unmount_all();
	reboot(op);
}
void on_signal(int op)
{
	do_shutdown(op);
}
`,
  });
  // and so on_signal's call is no site
  expect(rows(sites)).toEqual([['sig.c:5', 'vfork', 'fork-only']]);
});

test("the pid kept in a macro accessor decides the switch (xinetd's SERVER_PID(serp) = do_fork())", async () => {
  const server = `#include <unistd.h>
#define do_fork() fork()
#define SERVER_PID(s) ((s)->pid)
int server_start(struct server *serp)
{
	SERVER_PID(serp) = do_fork();
	switch (SERVER_PID(serp)) {
	case 0:
		child_process(serp);
		_exit(0);
	case -1:
		return -1;
	default:
		return 0;
	}
}
`;
  // The file alone: the child takes case 0 and exits (it was taken for a wrapper: the switch looked unknown).
  const alone = await scanC(server, 'server.c');
  expect(alone.map((s) => [s.line, s.class])).toEqual([[6, 'fork-only']]);
  const sites = await scanProject('accessor-pid', {
    'server.c': server,
    'child.c': `#include <unistd.h>
void exec_server(struct server *serp) { execve(serp->path, serp->argv, serp->env); }
void child_process(struct server *serp)
{
	setup(serp);
	exec_server(serp);
}
`,
  });
  expect(rows(sites)).toEqual([['server.c:6', 'do_fork', 'exec-via-helper']]);
});

test("a project's exec macro, execvpe, fexecve and forkpty are the calls they stand for", async () => {
  const sites = await scanProject('exec-variants', {
    'compat.h': '#define EXECVP(file, argv) execvp(file, argv)\n',
    'run.c': `#include <pty.h>
#include <unistd.h>
#include "compat.h"
void a(char **argv)
{
	if (fork() == 0) {
		EXECVP(argv[0], argv);
		_exit(127);
	}
}
void b(char **argv, char **envp)
{
	if (vfork() == 0) {
		execvpe(argv[0], argv, envp);
		_exit(127);
	}
}
void c(int fd, char **argv, char **envp)
{
	if (fork() == 0) {
		fexecve(fd, argv, envp);
		_exit(127);
	}
}
void d(int *master, char **argv)
{
	if (forkpty(master, NULL, NULL, NULL) == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
}
`,
  });
  expect(sites.map((s) => [s.line, s.call, s.class, s.exec])).toEqual([
    [6, 'fork', 'fork+exec', 'EXECVP'],
    [13, 'vfork', 'fork+exec', 'execvpe'],
    [20, 'fork', 'fork+exec', 'fexecve'],
    [27, 'forkpty', 'fork+exec', 'execv'],
  ]);
});

test("a function whose child execs through another file's helper is no wrapper: its callers are no sites (i3)", async () => {
  const sites = await scanProject('helper-elsewhere-no-wrapper', {
    'util.c': `#include <unistd.h>
void exec_utility(char *name, char **argv) { execvp(name, argv); }
`,
    // alone, this file sees a child that calls an unknown function and falls out of the if: a wrapper
    'config.c': `#include <unistd.h>
static char *migrate(char **argv)
{
	pid_t pid = fork();
	if (pid == -1)
		return NULL;
	if (pid == 0) {
		exec_utility("migrate", argv);
	}
	return read_all();
}
char *parse_file(char **argv)
{
	return migrate(argv);
}
`,
    'main.c': `char *load(char **argv) { return parse_file(argv); }
`,
  });
  expect(rows(sites)).toEqual([['config.c:4', 'fork', 'exec-via-helper']]);
});

test("a macro that wraps a fork in a call forks: its calls are sites in every file (toybox's XVFORK)", async () => {
  const sites = await scanProject('wrapped-fork-macro', {
    'lib.h': '#define XVFORK() xvforkwrap(vfork())\npid_t xfork(void);\n',
    'lib.c': `#include <unistd.h>
pid_t xvforkwrap(pid_t pid) { if (pid == -1) perror_exit("vfork"); return pid; }
pid_t xfork(void) { pid_t pid = fork(); if (pid < 0) perror_exit("fork"); return pid; }
void xexec(char **argv) { execvp(argv[0], argv); _exit(127); }
`,
    // names neither fork nor exec: read because it calls the macro
    'time.c': `#include "lib.h"
void time_main(char **argv)
{
	pid_t pid;
	if (!(pid = XVFORK())) xexec(argv);
	wait4(pid, 0, 0, 0);
}
`,
    // one site per branch of the conditional; each branch is the pid where its fork ran
    'popen.c': `#include "lib.h"
int xpopen(char **argv)
{
	int pid;
	if (!(pid = FORK_OK ? xfork() : XVFORK())) {
		xexec(argv);
	}
	return pid;
}
`,
  });
  expect(rows(sites)).toEqual([
    ['lib.c:3', 'fork', 'wrapper'],
    ['popen.c:5', 'xfork', 'exec-via-helper'],
    ['popen.c:5', 'XVFORK', 'exec-via-helper'],
    ['time.c:5', 'XVFORK', 'exec-via-helper'],
  ]);
  expect(sites.find((s) => s.call === 'XVFORK')).toMatchObject({ convertible: false });
});

test('a prototype behind a leading macro is no call of the wrapper it declares (mc, sudo)', async () => {
  const sites = await scanProject('prototype-with-macro', {
    // tree-sitter reads `MOCKABLE pid_t xfork (void);` here as a call statement, outside any function body
    'util.h': `MOCKABLE sighandler_t my_signal (int signum, sighandler_t handler);
MOCKABLE int my_sigaction (int signum, const struct sigaction *act, struct sigaction *oldact);
MOCKABLE pid_t xfork (void);
MOCKABLE int my_execvp (const char *file, char *const argv[]);
#ifdef HAVE_CLONE
int clone_it (void);
#endif
`,
    'util.c': `#include <unistd.h>
#include "util.h"
pid_t xfork (void) { return fork (); }
`,
    'run.c': `#include "util.h"
void run(char **argv)
{
	if (xfork() == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
}
`,
  });
  expect(rows(sites)).toEqual([
    ['run.c:4', 'xfork', 'fork+exec'],
    ['util.c:3', 'fork', 'wrapper'],
  ]);
});

test("a macro that is one call of a fork wrapper is that wrapper: its calls are sites (sudo's sudo_debug_fork())", async () => {
  const sites = await scanProject('wrapper-macro', {
    'debug.h': '#define debug_fork() debug_fork_v1()\n',
    'debug.c': `#include <unistd.h>
pid_t debug_fork_v1(void)
{
	pid_t pid;
	if ((pid = fork()) == 0)
		debug_set_prefix();
	return pid;
}
`,
    // names neither fork nor exec: read because it calls the macro
    'run.c': `#include "debug.h"
void run(char **argv)
{
	switch (debug_fork()) {
	case 0:
		run_mailer(argv);
		_exit(127);
	}
}
`,
    // the exec is the grandchild's: run_mailer's own child execs
    'mail.c': `#include <unistd.h>
#include "debug.h"
void run_mailer(char **argv)
{
	if (debug_fork() == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
}
void send_mail(char **argv)
{
	if (fork() == 0) {
		run_mailer(argv);
		_exit(0);
	}
}
void send_mail_inline(char **argv)
{
	if (fork() == 0) {
		if (debug_fork() == 0)
			run_mailer_now(argv);
		_exit(0);
	}
}
void run_mailer_now(char **argv) { execv(argv[0], argv); }
`,
  });
  expect(rows(sites)).toEqual([
    ['debug.c:5', 'fork', 'wrapper'],
    ['mail.c:5', 'debug_fork', 'fork+exec'],
    ['mail.c:12', 'fork', 'fork-only'],
    ['mail.c:19', 'fork', 'fork-only'],
    ['mail.c:20', 'debug_fork', 'exec-via-helper'],
    ['run.c:4', 'debug_fork', 'fork-only'],
  ]);
});

test("a wrapper of a wrapper of the same file is a wrapper: its calls are sites (zsh's execcmd_fork -> zfork)", async () => {
  const sites = await scanProject('wrapper-of-wrapper', {
    'exec.c': `#include <unistd.h>
pid_t zfork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		set_limits();
	return pid;
}
static pid_t cmd_fork(void)
{
	pid_t pid = zfork();
	if (pid == 0) {
		enter_subshell();
		return 0;
	}
	return pid;
}
static void execute(char **argv) { execve(argv[0], argv, environ); _exit(127); }
void cmd_exec(char **argv)
{
	if (cmd_fork() == 0)
		execute(argv);
}
`,
  });
  expect(rows(sites)).toEqual([
    ['exec.c:4', 'fork', 'wrapper'],
    ['exec.c:11', 'zfork', 'wrapper'],
    ['exec.c:21', 'cmd_fork', 'exec-via-helper'],
  ]);
});

test('a function of another file whose body ends in an exit never returns, through a chain too (zsh _realexit)', async () => {
  const sites = await scanProject('ends-in-exit-elsewhere', {
    // names neither fork nor exec, no attribute: read for its bodies
    'builtin.c': `#include <stdlib.h>
void realexit(void)
{
	flush_history();
	_exit(exit_val);
}
void quit(int val)
{
	exit_val = val;
	realexit();
}
/* two files define cleanup differently: it may return */
void cleanup(void) { exit(1); }
`,
    'other.c': 'void cleanup(void) { remove_temp(); }\n',
    'exec.c': `#include <unistd.h>
pid_t getoutput(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		run_program();
		quit(lastval);
	}
	return pid;
}
pid_t getpipe(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		run_program();
		cleanup();
	}
	return pid;
}
`,
  });
  expect(rows(sites)).toEqual([
    ['exec.c:4', 'fork', 'fork-only'],
    ['exec.c:13', 'fork', 'wrapper'],
  ]);
});

test("a local pid nothing returns or stores tells the caller nothing: no wrapper (vim's gui_do_fork, zsh's clone)", async () => {
  const sites = await scanProject('pid-not-passed', {
    'gui.c': `#include <unistd.h>
static void gui_do_fork(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return;
	if (pid > 0) {
		if (read_child() == FAILED) {
			waitpid(pid, 0, 0);
			return;
		}
		_exit(0);
	}
	setsid();
}
static int bin_clone(int fd)
{
	int pid;
	pid = fork();
	if (!pid)
		setsid();
	else
		close(fd);
	return 0;
}
/* a store only the parent makes registers the child: the child cannot tell it happened */
static void run_rest(void)
{
	pid_t pid = fork();
	if (pid) {
		list_pipe_pid = pid;
		return;
	}
	stop_self();
}
`,
    // the child's own return value tells it apart; a pid both sides store does too
    'state.c': `#include <unistd.h>
int fork_state(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return FORK_ERROR;
	if (pid == 0)
		return FORK_CHILD;
	waitpid(pid, 0, 0);
	return FORK_PARENT;
}
int start_job(struct job *job)
{
	pid_t pid = fork();
	job->pid = pid;
	return 0;
}
`,
  });
  expect(rows(sites)).toEqual([
    ['gui.c:4', 'fork', 'fork-only'],
    ['gui.c:19', 'fork', 'fork-only'],
    ['gui.c:29', 'fork', 'fork-only'],
    ['state.c:4', 'fork', 'wrapper'],
    ['state.c:14', 'fork', 'wrapper'],
  ]);
});

test('a helper that execs through a pointer to an exec function execs (sudo_intercept.c exec_wrapper)', async () => {
  const sites = await scanProject('exec-through-pointer', {
    'intercept.c': `#include <dlfcn.h>
#include <unistd.h>
static int exec_wrapper(const char *cmnd, char **argv)
{
	void *fn = dlsym(RTLD_NEXT, "execve");
	if (fn == NULL)
		return -1;
	((execve_fn)fn)(cmnd, argv, environ);
	return -1;
}
static void notify(void (*cb)(void)) { cb(); }
int system_wrapper(const char *cmnd, char **argv)
{
	pid_t child;
	switch (child = fork()) {
	case -1:
		return -1;
	case 0:
		exec_wrapper(cmnd, argv);
		_exit(127);
	}
	waitpid(child, 0, 0);
	return 0;
}
void worker(void)
{
	if (fork() == 0) {
		notify(done);
		_exit(0);
	}
}
`,
  });
  expect(rows(sites)).toEqual([
    ['intercept.c:15', 'fork', 'exec-via-helper'],
    ['intercept.c:27', 'fork', 'fork-only'],
  ]);
  expect(sites[0]).toMatchObject({ exec: 'execve' });
});

test("a wrapper whose child returns a value of its own: its callers' child is where the result is that value (mc)", async () => {
  const sites = await scanProject('wrapper-child-value', {
    'utilunix.c': `#include <unistd.h>
pid_t my_fork(void) { return fork(); }
static fork_state_t my_fork_state(void)
{
	pid_t pid = my_fork();
	if (pid < 0)
		return FORK_ERROR;
	if (pid == 0)
		return FORK_CHILD;
	waitpid(pid, 0, 0);
	return FORK_PARENT;
}
int my_systemv(const char *cmd, char **argv)
{
	switch (my_fork_state()) {
	case FORK_CHILD:
		execvp(cmd, argv);
		_exit(127);
	case FORK_ERROR:
		return -1;
	default:
		return 0;
	}
}
`,
  });
  expect(rows(sites)).toEqual([
    ['utilunix.c:2', 'fork', 'wrapper'],
    ['utilunix.c:5', 'my_fork', 'wrapper'],
    ['utilunix.c:15', 'my_fork_state', 'fork+exec'],
  ]);
});

test("a wrapper's own child value counts in the other files that call it", async () => {
  const sites = await scanProject('wrapper-child-value-elsewhere', {
    'state.c': `#include <unistd.h>
fork_state_t fork_state(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return FORK_ERROR;
	if (pid == 0)
		return FORK_CHILD;
	waitpid(pid, 0, 0);
	return FORK_PARENT;
}
`,
    // names neither fork nor exec: read because it calls the wrapper
    'run.c': `#include "state.h"
int run(char **argv)
{
	if (fork_state() == FORK_CHILD) {
		run_it(argv);
		_exit(127);
	}
	return 0;
}
`,
    'exec.c': '#include <unistd.h>\nvoid run_it(char **argv) { execvp(argv[0], argv); }\n',
  });
  expect(rows(sites)).toEqual([
    ['run.c:4', 'fork_state', 'exec-via-helper'],
    ['state.c:4', 'fork', 'wrapper'],
  ]);
});
