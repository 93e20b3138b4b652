import { factsOf } from '../../../src/frontends/c/facts.js';
import { cFrontend, cppFrontend } from '../../../src/frontends/c/index.js';
import { frontendFor } from '../../../src/frontends/index.js';

// C++ files through the C frontend (cpp.ts): what the C grammar would misread is refused, in the child and in the
// project's functions the recording inlines. The runnable C++ fixture is test/fixtures/c/cpp-child.

const caller = (helper: string) => `#include <unistd.h>
${helper}
int run(char **v, int fd) {
  pid_t pid = fork();
  if (pid == 0) {
    to_stdout(fd);
    execv(v[0], v);
    _exit(127);
  }
  return pid;
}
`;

test('C++ endings go to the C++ frontend', () => {
  for (const file of ['a.cc', 'a.cpp', 'a.cxx', 'a.hpp', 'a.hh', 'a.hxx']) expect(frontendFor(file)).toBe(cppFrontend);
});

test('a C-like helper of the same file is inlined; one that throws is not read as C', async () => {
  const plain = await cppFrontend.transform(caller('static void to_stdout(int fd) { dup2(fd, 1); }'), 'a.cc');
  expect(plain.sites.map((s) => s.converted)).toEqual([true]);
  // `throw e;` reads in C as a declaration of e
  const throwing = caller('struct E {}; static void to_stdout(int fd) { E e; if (fd < 0) throw e; dup2(fd, 1); }');
  const result = await cppFrontend.transform(throwing, 'a.cc');
  expect(result.changed).toBe(false);
  expect(result.sites[0].reason).toMatch(/the child calls to_stdout\(\), which has a throw \(throw e;\)/);
});

test('a helper of another file with C++ in it is refused, saying what', async () => {
  const facts = factsOf('void to_stdout(int fd) { log.note(fd); dup2(fd, 1); }', true);
  const result = await cppFrontend.transform(caller(''), 'a.cc', facts);
  expect(result.changed).toBe(false);
  expect(result.sites[0].reason).toMatch(
    /to_stdout\(\) in the child, a function of another file that has a member call/,
  );
});

test('a header may be C++: its children are checked as a C++ file, its rewrite may stay C-only', async () => {
  const child = (body: string) => `#include <unistd.h>
static inline int run(char **v, int keep) {
  pid_t pid = fork();
  if (pid == 0) {
    ${body}
    execv(v[0], v);
    _exit(127);
  }
  return pid;
}
`;
  const thrown = await cFrontend.transform(child('if (keep < 0) throw keep;'), 'run.h');
  expect(thrown.changed).toBe(false);
  expect(thrown.sites[0].reason).toMatch(/the child has a throw/);
  // a compound literal is C: in a header it stays (a C++ file would refuse it)
  const sparing = child('int fd; for (fd = 3; fd < getdtablesize(); fd++) if (fd != keep) close(fd);');
  const header = await cFrontend.transform(sparing, 'run.h');
  expect(header.sites.map((s) => s.converted)).toEqual([true]);
  expect(header.code).toContain('(int[]){ keep }');
  expect((await cppFrontend.transform(sparing, 'run.hpp')).changed).toBe(false);
});
