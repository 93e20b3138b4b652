// Generates a tree of C projects for the census: mostly ordinary code, with a known number of fork sites of each
// class, helpers defined in other files (one and two calls deep), and the count the census must find.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const filler = (p, i) => {
  const fns = [];
  for (let k = 0; k < 8; k++) {
    fns.push(`static int work_${i}_${k}(const char *s, int n)
{
	int total = 0;
	for (int j = 0; j < n; j++) {
		if (s[j] == '/')
			total += lookup_${p}(s + j, n - j);
		else if (s[j] == '\\\\')
			total -= 2;
		else
			total++;
	}
	switch (total % 3) {
	case 0:
		return log_value(total);
	default:
		break;
	}
	return total;
}
`);
  }
  return `/* project ${p}, file ${i} */\n#include <stdio.h>\n#include <string.h>\n\n${fns.join('\n')}`;
};

const SITES = {
  convertible: (p, i) => `pid_t spawn_${i}(char **argv, int fd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fd, 1);
		close(fd);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}
`,
  errnoStatus: (p, i) => `pid_t run_${i}(char **argv)
{
	pid_t pid;
	switch (pid = fork()) {
	case 0:
		execv(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	default:
		return pid;
	}
}
`,
  wrapper: (p, i) => `pid_t xfork_${i}(void)
{
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork");
	return pid;
}
`,
  daemon: (p, i) => `void daemonize_${i}(void)
{
	if (fork() > 0)
		exit(0);
	setsid();
	chdir("/");
}
`,
  helper1: (p, i) => `void via_${i}(char **argv)
{
	if (fork() == 0) {
		run_cmd_${p}(argv);
		_exit(127);
	}
}
`,
  helper2: (p, i) => `void via2_${i}(char **argv)
{
	if (vfork() == 0) {
		prepare_${p}(argv);
		_exit(127);
	}
}
`,
  pointer: (p, i) => `void job_${i}(void (*fn)(void))
{
	if (!fork()) {
		fn();
		_exit(0);
	}
}
`,
};

const CLASS_OF = {
  convertible: 'fork+exec',
  errnoStatus: 'fork+exec',
  wrapper: 'wrapper',
  daemon: 'fork-only',
  helper1: 'exec-via-helper',
  helper2: 'exec-via-helper',
  pointer: 'unresolved',
};
const KINDS = Object.keys(SITES);

/** Writes projects × filesPerProject C files under dir; returns what the census must report. */
export function generateTree(dir, { projects = 4, filesPerProject = 100, every = 25 } = {}) {
  const expected = {
    files: 0,
    sites: 0,
    convertible: 0,
    classes: { 'fork+exec': 0, 'exec-via-helper': 0, wrapper: 0, 'fork-only': 0, unresolved: 0 },
    perProject: {},
  };
  for (let p = 0; p < projects; p++) {
    const name = `proj${p}`;
    const root = path.join(dir, name);
    mkdirSync(path.join(root, 'src', 'lib'), { recursive: true });
    writeFileSync(path.join(root, 'Makefile'), 'all:\n');
    writeFileSync(
      path.join(root, 'src', 'lib', 'run.c'),
      `#include <unistd.h>\nvoid run_cmd_${p}(char **argv)\n{\n\texecvp(argv[0], argv);\n}\n`,
    );
    // Names neither fork nor exec: the census reads it only to follow a helper two calls deep.
    writeFileSync(
      path.join(root, 'src', 'lib', 'prepare.c'),
      `void prepare_${p}(char **argv)\n{\n\tif (argv[0])\n\t\trun_cmd_${p}(argv);\n}\n`,
    );
    expected.files += 2;
    let sites = 0;
    for (let i = 0; i < filesPerProject; i++) {
      const sub = path.join(root, 'src', `d${i % 10}`);
      mkdirSync(sub, { recursive: true });
      let text = filler(p, i);
      if (i % every < KINDS.length) {
        const kind = KINDS[i % every];
        text = `#include <errno.h>\n#include <stdlib.h>\n#include <unistd.h>\n${text}\n${SITES[kind](p, i)}`;
        expected.classes[CLASS_OF[kind]]++;
        // the status computed from errno is the slow path's business: that site converts too
        if (kind === 'convertible' || kind === 'errnoStatus') expected.convertible++;
        sites++;
      }
      writeFileSync(path.join(sub, `f${i}.${i % 7 === 6 ? 'h' : 'c'}`), text);
      expected.files++;
    }
    expected.sites += sites;
    expected.perProject[name] = sites;
  }
  return expected;
}
