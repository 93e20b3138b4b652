import { factsOf } from '../../../src/frontends/c/facts.js';
import { cFrontend, scanC, transformC } from '../../../src/frontends/c/index.js';
import { frontendFor } from '../../../src/frontends/index.js';

// The C frontend through the shared Frontend interface, on shapes too small to deserve a runnable fixture.

test('C files are dispatched to the C frontend', () => {
  expect(frontendFor('src/spawn.c')).toBe(cFrontend);
  expect(frontendFor('include/SPAWN.H')).toBe(cFrontend);
  expect(cFrontend.language).toBe('c');
});

test('a file without fork is returned as is', async () => {
  const source = 'int main(void) { return 0; }\n';
  await expect(transformC(source, 'a.c')).resolves.toEqual({ code: source, changed: false, sites: [] });
});

test('pid tests spelled with -1, hex, `!pid` and a return of the fork', async () => {
  const sites = await scanC(
    `int a(char **v) { pid_t p = fork(); if (p == -1) return -1; if (!p) { execv(v[0], v); _exit(0x7f); } return p; }
pid_t b(void) { return fork(); }
int c(char **v) { pid_t p; if ((p = vfork()) != 0) return p; execvp(v[0], v); _exit(127); }
`,
    'x.c',
  );
  expect(sites.map((s) => [s.function, s.call, s.class, s.convertible])).toEqual([
    ['a', 'fork', 'fork+exec', true],
    ['b', 'fork', 'wrapper', false],
    ['c', 'vfork', 'fork+exec', true],
  ]);
  // What follows a failed exec (here _exit(0x7f)) runs as written on the slow path: it needs no recording.
  // c: `(p = vfork()) != 0` sends -1 to the parent's return, so the tail is the child's alone.
});

test('source that does not parse cleanly is left alone when the rewrite would add errors', async () => {
  const source =
    'int f(char **v) { pid_t p = fork(); if (p == 0) { execv(v[0], v); _exit(127); } return p; }\nint g( {\n';
  const result = await transformC(source, 'broken.c');
  expect(result.sites).toHaveLength(1);
  // Either converted with the error kept where it was, or left unchanged; never more errors than before.
  if (result.changed) expect(result.code).toContain('fork_before_exec(v[0], v, environ, NULL, 0)');
  else expect(result.code).toBe(source);
});

test('a bare `if (fork() == 0)` converts without a pid (the parent never had one); a second run changes nothing', async () => {
  const first = await transformC(
    '#include <unistd.h>\nvoid f(char **v) {\n\tif (fork() == 0) {\n\t\texecvp(v[0], v);\n\t\t_exit(127);\n\t}\n}\n',
    'y.c',
  );
  expect(first.changed).toBe(true);
  expect(first.code).toContain(
    '\tpid_t fx_pid;\n\tfx_pid = fork_before_exec(v[0], v, environ, NULL, FORKEXEC_SEARCH_PATH);\n\tif (fx_pid < 0)\n\t\tfx_pid = fork();\n\tif (fx_pid == 0) {',
  );
  const second = await transformC(first.code, 'y.c');
  expect(second.code).toBe(first.code);
  expect(second.sites.map((s) => s.reason)).toEqual([
    'not convertible: already converted: this fork is the slow path of a fork_before_exec',
  ]);
});

test('CRLF files get CRLF lines from the rewrite', async () => {
  const source =
    '#include <unistd.h>\r\nint f(char **v) {\r\n\tpid_t p = fork();\r\n\tif (p == 0) {\r\n' +
    '\t\texecv(v[0], v);\r\n\t\t_exit(127);\r\n\t}\r\n\treturn p;\r\n}\r\n';
  const result = await transformC(source, 'crlf.c');
  expect(result.changed).toBe(true);
  expect(result.code.replace(/\r\n/g, '')).not.toContain('\n');
});

test('a child local changed after an action read it blocks the hoist', async () => {
  const [site] = await scanC(
    'void f(char **v) { pid_t p = fork(); if (p == 0) { int fd = 3; close(fd); fd = 4; dup2(fd, 1); execv(v[0], v); _exit(127); } }',
    'z.c',
  );
  expect(site.convertible).toBe(false);
  expect(site.blockers).toEqual([
    'the child changes fd after an action used it: computed in the parent first, the action would see the new value',
  ]);
});

test('a helper whose parameter has the name of the argument passed to it is inlined once', async () => {
  const result = await transformC(
    `#include <unistd.h>
static void to_stdout(int fd) { if (fd != 1) { dup2(fd, 1); close(fd); } }
int run(char **v, int fd) {
	pid_t pid = fork();
	if (pid == 0) {
		to_stdout(fd);
		execv(v[0], v);
		_exit(127);
	}
	return pid;
}
`,
    'helper.c',
  );
  expect(result.sites.map((s) => s.converted)).toEqual([true]);
  expect(result.code).toContain(
    '\t\tif (fd != 1) {\n\t\t\tforkexec_dup2(fx, fd, 1);\n\t\t\tforkexec_close(fx, fd);\n\t\t}\n',
  );
});

test("a child that calls a function which forks again is not exec-via-helper: the exec is a grandchild's", async () => {
  const sites = await scanC(
    `static void spawn(char **v) { if (fork() == 0) { execv(v[0], v); _exit(127); } }
void job(char **v) { if (fork() == 0) { spawn(v); _exit(0); } }
`,
    'grandchild.c',
  );
  expect(sites.map((s) => [s.function, s.class, s.reason])).toEqual([
    ['spawn', 'fork+exec', undefined],
    ['job', 'fork-only', "the child forks again in spawn(): any exec is the grandchild's"],
  ]);
});

test('a call in a condition is asked in the parent only while nothing recorded before it changed what it reads', async () => {
  const site = async (child: string) => {
    const source = `int f(char **v, const char *d, int fd) { pid_t p = fork(); if (p == 0) { ${child} execv(v[0], v); _exit(127); } return p; }\n`;
    return (await transformC(source, 'x.c')).sites[0];
  };
  expect((await site('if (getenv("A")) close(3);')).converted).toBe(true);
  expect((await site('setenv("A", "1", 1); if (getenv("A")) close(3);')).reason).toMatch(
    /getenv\(\) in the child reads its environment after its setenv\(\)/,
  );
  expect((await site('chdir(d); if (access("x", X_OK) == 0) close(3);')).reason).toMatch(
    /access\(\) in the child reads its files after its chdir\(\)/,
  );
  expect((await site('close(fd); if (isatty(0)) close(3);')).reason).toMatch(/isatty\(\) in the child reads its fds/);
  expect((await site('setuid(1); if (getuid() == 0) close(3);')).reason).toMatch(/getuid\(\) in the child reads/);
  // the real/saved id calls and initgroups change what id and file checks answer; a gid call leaves the uids alone
  expect((await site('setreuid(1, 1); if (geteuid() == 0) close(3);')).reason).toMatch(
    /geteuid\(\) in the child reads/,
  );
  expect((await site('setresgid(1, 1, 1); if (getegid() == 1) close(3);')).reason).toMatch(/getegid\(\) in the child/);
  expect((await site('initgroups("daemon", 1); if (access(d, R_OK) == 0) close(3);')).reason).toMatch(
    /access\(\) in the child reads its files after its initgroups\(\)/,
  );
  expect((await site('setregid(1, 1); if (getuid() == 0) close(3);')).converted).toBe(true);
  // a different answer in the child (its own pid), an effect, a call through a pointer: refused
  for (const call of ['getpid()', 'getppid()', 'unlink(d)', 'constructor(d)'])
    expect((await site(`if (${call} == 1) close(3);`)).reason).toMatch(/a conditional in the child calls/);
});

test("a path with what the parent cannot record cancels the fast path there; the condition must still be the parent's", async () => {
  const reasons = async (body: string) =>
    (
      await scanC(
        `int f(char **v, int fd, int q) {\npid_t p = fork(); if (p == 0) { ${body} execv(v[0], v); _exit(1); } return p;\n}\n`,
        'b.c',
      )
    ).map((x) => x.reason ?? 'converted');
  const code = async (body: string) =>
    (
      await transformC(
        `int f(char **v, int fd, int q) {\npid_t p = fork(); if (p == 0) { ${body} execv(v[0], v); _exit(1); } return p;\n}\n`,
        'b.c',
      )
    ).code;
  expect(await reasons('if (q) fprintf(stderr, "x"); else dup2(fd, 0);')).toEqual(['converted']);
  expect(await code('if (q) fprintf(stderr, "x"); else dup2(fd, 0);')).toMatch(
    /if \(q\) \{\s*forkexec_cancel\(fx\);\s*\} else \{\s*forkexec_dup2\(fx, fd, 0\);/,
  );
  // a condition the parent cannot answer as the child would stays a refusal
  expect(await reasons('if (getpid() == 1) fprintf(stderr, "x");')).toEqual([
    expect.stringMatching(/a conditional in the child calls getpid\(\)/),
  ]);
  // what the cancelled path changed is still the child's: a later action may not read it in the parent
  expect(await reasons('if (q) { v[1] = 0; printf("x"); } dup2(v[1] ? 1 : 2, 0);')).toEqual([
    expect.stringMatching(/reads v, which the child changed \(v\[1\] = 0;\)/),
  ]);
  // a local that can have a copy (`fd`, whose copy is named fx_local_fd: fx_fd is the recording's) is the parent's
  // on every path that is not cancelled
  expect(await code('if (q) { fd = 7; printf("x"); } dup2(fd, 0);')).toMatch(
    /if \(q\) \{\s*forkexec_cancel\(fx\);\s*\}\s*forkexec_dup2\(fx, fd, 0\);/,
  );
  // a parameter the child sets and then reads has a copy of the recording's (shadow-locals.ts), set whole: no value
  expect(await code('q = 5; close(q);')).toMatch(/__typeof__\(q\) fx_q;\s*fx_q = 5;\s*forkexec_close\(fx, fx_q\);/);
  // a copy only another unread copy reads (fx_a by fx_b's write) is not declared, nor is fx_b: set but unused would
  // warn, and fail -Werror builds; read by an action, both are
  const recordedOf = async (body: string) =>
    (
      await transformC(
        `int f(char **v, int a, int b) {\npid_t p = fork(); if (p == 0) { ${body} execv(v[0], v); _exit(1); } return p;\n}\n`,
        'b.c',
      )
    ).code.split('if (p < 0)')[0];
  expect(await recordedOf('a = 4; b = a + 1; close(3);')).not.toMatch(/fx_/);
  expect(await recordedOf('a = 4; b = a + 1; close(b);')).toMatch(
    /__typeof__\(a\) fx_a;\s*__typeof__\(b\) fx_b;\s*fx_a = 4;\s*fx_b = fx_a \+ 1;\s*forkexec_close\(fx, fx_b\);/,
  );
  // an fd the cancelled path would open is not declared for nothing (an unused variable fails -Werror builds)
  expect(await code('if (q) { int n = open("x", 0); dup2(n, 0); puts("x"); } close(fd);')).not.toMatch(/fx_fd/);
  // nothing the cancelled path computes is copied in front: the recording block has no strdup, and cancels
  const recording = (await code('if (q) { char *s = strdup("x"); puts(s); } close(fd);')).split('if (p < 0)')[0];
  expect(recording).toMatch(/forkexec_cancel\(fx\)/);
  expect(recording).not.toMatch(/strdup/);
});

test('a macro that acts only under a condition on memory cancels when it holds; any other macro stays refused', async () => {
  const reasons = async (defines: string, body: string) =>
    (
      await transformC(
        `${defines}\nstatic int debug;\nint f(char **v, int fd, int q) {\npid_t p = fork(); if (p == 0) { ${body} execv(v[0], v); _exit(1); } return p;\n}\n`,
        'm.c',
      )
    ).sites.map((x) => x.reason ?? 'converted');
  const LOG = '#define LOG(...) do { if (debug) { fprintf(stderr, __VA_ARGS__); } } while (0)';
  expect(await reasons(LOG, 'LOG("x"); dup2(fd, 0);')).toEqual(['converted']);
  const TR = '#define TR(l, m) if (debug > (l)) fputs(m, stderr)';
  expect(await reasons(TR, 'TR(q, "x");')).toEqual(['converted']);
  // `if (q) TR(1, "x"); else close(fd);` expands to an else of the macro's own if
  expect(await reasons(TR, 'if (q) TR(1, "x"); else close(fd);')).toEqual([
    expect.stringMatching(/TR\(\) before an else: the else binds to the if inside the macro/),
  ]);
  expect(await reasons(TR, 'if (q) TR(1, "x"); else { close(fd); execv(v[1], v); }')).toEqual([
    expect.stringMatching(/TR\(\) before an else/),
  ]);
  expect(await reasons(LOG, 'if (q) LOG("x"); else close(fd);')).toEqual(['converted']);
  // a name the project does not define, before an else, may be another header's bare-if macro
  expect(await reasons('', 'if (q) event_log("x"); else close(fd);')).toEqual([
    expect.stringMatching(/event_log\(\) before an else: a macro of another project's header could take that else/),
  ]);
  // an else, a condition that calls, writes or reads what the child changed, two definitions: as before
  expect(await reasons('#define LOG(m) if (debug) fputs(m, stderr); else (void)0', 'LOG("x");')).toEqual([
    expect.stringMatching(/LOG\(\)/),
  ]);
  expect(await reasons('#define LOG(m) if (want()) fputs(m, stderr)', 'LOG("x");')).toEqual([
    expect.stringMatching(/LOG\(\) in the child acts when want\(\), which calls want\(\)/),
  ]);
  expect(await reasons('#define LOG(m) if (debug++) fputs(m, stderr)', 'LOG("x");')).toEqual([
    expect.stringMatching(/which changes memory/),
  ]);
  expect(await reasons(LOG, 'debug = 1; LOG("x");')).toEqual([
    expect.stringMatching(/LOG\(\) reads debug, which the child changed \(debug = 1;\)/),
  ]);
  expect(
    await reasons(`#ifdef X\n${LOG}\n#else\n#define LOG(...) fprintf(stderr, __VA_ARGS__)\n#endif`, 'LOG("x");'),
  ).toEqual([expect.stringMatching(/LOG\(\)/)]);
  // ioctl: TIOCSCTTY is an action (its failure takes the slow path); any other request is refused
  expect(await reasons('', 'setsid(); if (ioctl(0, TIOCSCTTY, 0) == -1) LOG("x");')).toEqual(['converted']);
  expect(await reasons('', 'ioctl(0, TIOCNOTTY);')).toEqual([expect.stringMatching(/only TIOCSCTTY has an action/)]);
});

test('the new recordings refuse what they cannot prove, each with its reason', async () => {
  const reasons = async (body: string) =>
    (await scanC(`int f(char **v, sigset_t *s, int q) {\n${body}\n}\n`, 'r.c')).map((x) => x.reason ?? 'converted');
  // A vfork child keeps its old mask in the parent's memory.
  expect(
    await reasons(
      'sigset_t old; pid_t p = vfork(); if (p == 0) { sigprocmask(SIG_BLOCK, s, &old); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/keeps the old mask in &old, which the child shares/)]);
  // Two opens of fds of the child's own: each lands where the parent computes, the second after the first.
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int a = open("x", 0); int b = open("y", 0); dup2(a, 0); dup2(b, 1); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual(['converted']);
  // An open with O_EXCL would fail on the slow path's second run.
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int a = open("x", O_CREAT | O_EXCL, 0600); if (a > 2) close(a); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/O_EXCL/)]);
  // An fd opened on one path only: after it, the variable holds the open's fd or what it held before.
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int fd = 5; if (q) fd = open("x", 0); if (fd != 5) { dup2(fd, 0); close(fd); } execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/reads fd, the fd an open\(\) on one path of the child returned/)]);
  // Code copied in front runs as written: it cannot read the fd the child's open() returns (the parent has none).
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int fd = open("x", 0); char b[16]; snprintf(b, sizeof b, "%d", fd); execl(v[0], v[0], b, (char *)0); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/reads fd, the fd the child's open\(\) returns: only an action may/)]);
  // A declared fd written again: the write is the child's (its declaration is never copied in front).
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int fd = open("x", 0); dup2(fd, 0); fd = 7; close(fd); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/reads fd, which the child changed \(fd = 7;\)/)]);
  // A local the child declares has no copy in front of the fork: its writes stay the child's (shadow-locals.ts).
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { int s = open("x", 0); dup2(s, 0); s = 7; close(s); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/reads s, which the child changed \(s = 7;\)/)]);
  // A vfork child's write is the parent's: no copy stands for it.
  expect(
    await reasons('int s = 3; pid_t p = vfork(); if (p == 0) { s = 7; close(s); execv(v[0], v); _exit(1); } return p;'),
  ).toEqual([expect.stringMatching(/a vfork child writes the parent's memory/)]);
  // A static local outlives the call: not a plain local, so no copy either.
  expect(
    await reasons(
      'static int s; pid_t p = fork(); if (p == 0) { s = 7; close(s); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/reads s, which the child changed \(s = 7;\)/)]);
  // Execs in both branches under a condition with an effect.
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { if (getchar() == 1) execv(v[0], v); else execv(v[1], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/calls getchar\(\)/)]);
});

test("what an inlined helper does to the caller's variables stays known after it", async () => {
  const sites = await scanC(
    `int g;
static void to_null(void) { g = open("/dev/null", O_RDWR); dup2(g, 0); close(g); }
int f(char **v) {
	pid_t p = fork();
	if (p == 0) {
		to_null();
		if (g > 2) close(1);
		execv(v[0], v);
		_exit(1);
	}
	return p;
}
`,
    'g.c',
  );
  // the child's g holds the fd it opened; the parent's does not
  expect(sites.map((s) => s.reason)).toEqual([expect.stringMatching(/reads g, the fd the child opened/)]);
});

test('a helper whose tested result is not known to be other than -1 on success is left as written', async () => {
  const source = `static int quiet(int fd) {
	int ret = 0;
	if (dup2(fd, 2) == -1)
		return -1;
	ret = fd - 3;
	return ret;
}
static int checked(int fd) {
	int ret = 0;
	if (dup2(fd, 2) == -1)
		ret = -1;
	return ret;
}
int f(char **v, int fd) {
	pid_t p = fork();
	if (p == 0) {
		if (quiet(fd) == -1)
			_exit(2);
		execv(v[0], v);
		_exit(1);
	}
	pid_t r = fork();
	if (r == 0) {
		if (checked(fd) < 0)
			_exit(2);
		execv(v[0], v);
		_exit(1);
	}
	return p;
}
`;
  const result = await transformC(source, 'h.c');
  expect(result.sites.map((s) => s.reason ?? 'converted')).toEqual([
    expect.stringMatching(/quiet\(\)'s result is tested in the child: the rewrite cannot show it is not -1 on success/),
    'converted',
  ]);
  expect(result.code).toContain('forkexec_dup2(fx, fd, 2);');
});

test("this round's recordings refuse what they cannot prove, each with its reason", async () => {
  const reasons = async (body: string, before = '') =>
    (await scanC(`${before}\nint f(char **v, int fd, struct sigaction *sa) {\n${body}\n}\n`, 'r.c')).map(
      (x) => x.reason ?? 'converted',
    );
  const site = (child: string) => `pid_t p = fork(); if (p == 0) { ${child} execv(v[0], v); _exit(1); } return p;`;
  // fcntl: F_SETFD is an action, checked or not; any other command is refused
  expect(await reasons(site('if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) _exit(2);'))).toEqual(['converted']);
  expect(await reasons(site('fcntl(fd, F_SETFL, 0);'))).toEqual([expect.stringMatching(/only F_SETFD has an action/)]);
  // tcsetpgrp of the child's own group (asked in the child); of another group, refused
  expect(await reasons(site('setpgid(0, 0); tcsetpgrp(0, getpgrp());'))).toEqual(['converted']);
  expect(await reasons(site('tcsetpgrp(0, getpid());'))).toEqual([expect.stringMatching(/calls getpid\(\)/)]);
  // sigaction's old action in a vfork child is the parent's memory
  expect(
    await reasons(
      'struct sigaction old; pid_t p = vfork(); if (p == 0) { sigaction(SIGINT, sa, &old); execv(v[0], v); _exit(1); } return p;',
    ),
  ).toEqual([expect.stringMatching(/keeps the old action in &old, which the child shares/)]);
  // `if (helper())` needs the helper to return 0 once its actions succeeded
  expect(await reasons(site('if (one()) _exit(2);'), 'int one(void) { setsid(); return 1; }')).toEqual([
    expect.stringMatching(/one\(\)'s result is tested in the child: the rewrite cannot show it is 0 on success/),
  ]);
  // an exec macro that is not one exec of its parameters
  expect(
    await reasons(
      'pid_t p = fork(); if (p == 0) { execvpe(v[0], v, 0); _exit(1); } return p;',
      '#define execvpe(A, V, E) execvp(A, V + 1)',
    ),
  ).toEqual([expect.stringMatching(/execs through macro execvpe\(\), which its file does not define as one exec/)]);
});

describe("a close walk in another file (screen's closeallfiles): recognised only as the whole walk", () => {
  const helpers = (next: string) => `void closeallfiles(int except)
{
	struct pollfd pfd[1024];
	int maxfd, i, fd, ret, z;

	i = 3;
	maxfd = getdtablesize();
	while (i < maxfd) {
		memset(pfd, 0, sizeof(pfd));
		z = 0;
		for (fd = i; fd < maxfd && fd < i + 1024; fd++)
			pfd[z++].fd = fd;
		ret = poll(pfd, fd - i, 0);
		if (ret < 0)
			Panic(errno, "poll");
		z = 0;
		for (fd = i; fd < maxfd && fd < i + 1024; fd++)
			if (!(pfd[z++].revents & POLLNVAL) && fd != except)
				close(fd);
		i = ${next};
	}
}
`;
  const caller = `int run(char **v, int keep) { switch (fork()) { case 0: closeallfiles(keep); execv(v[0], v); _exit(127); } return 0; }\n`;
  const convert = (next: string) => transformC(caller, 'caller.c', factsOf(helpers(next), true));

  test('the walk is the range from 3 to the fd limit, sparing the argument', async () => {
    expect(factsOf(helpers('fd')).closeWalks).toEqual({
      closeallfiles: { params: 1, low: 3, bound: 'getdtablesize()', keep: 0 },
    });
    const { code } = await convert('fd');
    expect(code).toContain('forkexec_close_range(fx, 3, getdtablesize() - 1, (int[]){ keep }, 1);');
  });

  test('a walk that skips an fd after each chunk (`i = fd + 1`) is none, and the call is kept', async () => {
    expect(factsOf(helpers('fd + 1')).closeWalks).toEqual({ closeallfiles: null });
    expect((await convert('fd + 1')).changed).toBe(false);
  });
});

describe('a fork wrapper of another file (other-file-wrappers.ts)', () => {
  const caller = (call: string) => `#include <unistd.h>
pid_t my_fork_v1(void);
pid_t fdforkpty(int *m);
pid_t hidden_fork(void);
#define my_fork() my_fork_v1()
int run(char **argv)
{
	pid_t pid;
	int m;
	(void)m;
	pid = ${call};
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}
`;
  const withDefs = (defs: Record<string, string[]>) => {
    const facts = factsOf('', true);
    facts.forkFunctions = {};
    for (const [name, texts] of Object.entries(defs))
      facts.forkFunctions[name] = texts.flatMap((t) => factsOf(t, true).forkFunctions?.[name] ?? []);
    for (const d of Object.values(facts.forkFunctions).flat()) d.file = 'lib/other.c';
    return facts;
  };
  const site = async (call: string, defs: Record<string, string[]>) =>
    (await transformC(caller(call), 'run.c', withDefs(defs))).sites;

  test('a macro that is its call without arguments is its site; two definitions under #if are refused', async () => {
    const one = 'pid_t my_fork_v1(void)\n{\n\treturn fork();\n}\n';
    const two = 'pid_t my_fork_v1(void)\n{\n\tpid_t p = fork();\n\treturn p;\n}\n';
    const converted = await site('my_fork()', { my_fork_v1: [one] });
    expect(converted).toMatchObject([{ call: 'my_fork', class: 'fork+exec', converted: true }]);
    const refused = await site('my_fork()', { my_fork_v1: [one, two] });
    expect(refused).toMatchObject([{ call: 'my_fork', class: 'fork+exec' }]);
    expect(refused[0].converted).toBeFalsy();
    expect(refused[0].reason).toMatch(/my_fork_v1\(\) is defined 2 times in other\.c, under #if/);
  });

  test('a wrapper that forks with forkpty() is refused, saying so; a static one is no wrapper of the caller', async () => {
    const pty = await site('fdforkpty(&m)', {
      fdforkpty: ['pid_t fdforkpty(int *m)\n{\n\treturn forkpty(m, NULL, NULL, NULL);\n}\n'],
    });
    expect(pty).toMatchObject([{ call: 'fdforkpty' }]);
    expect(pty[0].converted).toBeFalsy();
    expect(pty[0].reason).toMatch(/fdforkpty\(\) forks with forkpty\(\)/);
    const local = await site('hidden_fork()', {
      hidden_fork: ['static pid_t hidden_fork(void)\n{\n\treturn fork();\n}\n'],
    });
    expect(local).toEqual([]);
  });
});
