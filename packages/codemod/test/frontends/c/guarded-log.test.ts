import { guardedLogsOf } from '../../../src/frontends/c/guarded-log.js';

// Which functions of a .c file write nothing while a guard on memory holds (guarded-log.ts): only those whose guard
// comes first and reads nothing but memory; the rest stay calls the child makes.

const log = (body: string) => `static int level;\nstatic int forced;\n${body}`;

describe('guardedLogsOf', () => {
  test('a void function whose guard comes first, after declarations without effect', () => {
    const found = guardedLogsOf(
      log(
        'void note(int at, const char *m)\n{\n\tchar buf[64], *p = buf;\n\tint n = 0;\n\tif (at > level)\n\t\treturn;\n\tputs(m);\n}\n',
      ),
    );
    expect(found.note).toMatchObject({ guard: 'at > level', reads: ['at'], globals: ['level'], after: 'note' });
  });

  test("a variadic function handing its va_list to a static one: that one's guard, in the caller's parameters", () => {
    const found = guardedLogsOf(
      log(
        'static void logv(int lv, const char *f, va_list ap)\n{\n\tif (forced == 0 && lv > level) return;\n\tvprintf(f, ap);\n}\n' +
          'void logf(const char *where, int severity, const char *f, ...)\n{\n\tva_list ap;\n\tva_start(ap, f);\n\tlogv(severity, f, ap);\n\tva_end(ap);\n}\n',
      ),
    );
    expect(found.logv).toBeUndefined(); // static: no other file calls it
    expect(found.logf).toMatchObject({
      guard: 'forced == 0 && severity > level',
      reads: ['severity'],
      declarations: ['const char *where', 'int severity', 'const char *f'],
      variadic: true,
      after: 'logv',
    });
  });

  test.each([
    ['something before the guard', 'void f(int at)\n{\n\tcalls++;\n\tif (at > level) return;\n\tputs("x");\n}\n'],
    ['a call in a declaration', 'void f(int at)\n{\n\tint fd = open_log();\n\tif (at > level) return;\n}\n'],
    ['a call in the guard', 'void f(int at)\n{\n\tif (at > get_level()) return;\n\tputs("x");\n}\n'],
    ['errno in the guard', 'void f(int at)\n{\n\tif (errno && at > level) return;\n\tputs("x");\n}\n'],
    ['an upper-case name (a macro may call)', 'void f(int at)\n{\n\tif (at > LEVEL) return;\n\tputs("x");\n}\n'],
    ['a write in the guard', 'void f(int at)\n{\n\tif ((level = at) > 3) return;\n\tputs("x");\n}\n'],
    ['#if in the body', 'void f(int at)\n{\n#ifdef X\n\tif (at > level) return;\n#endif\n\tputs("x");\n}\n'],
    [
      'an action after the guard (its recording twin records it)',
      'void f(int blocked)\n{\n\tif (!blocked) return;\n\tsigprocmask(SIG_SETMASK, &old, NULL);\n}\n',
    ],
    ['a result', 'int f(int at)\n{\n\tif (at > level) return 0;\n\treturn puts("x");\n}\n'],
    [
      'a guard parameter bound to a variable of the file',
      'static void g(int lv, va_list ap)\n{\n\tif (lv > level) return;\n}\nvoid f(const char *fmt, ...)\n{\n\tva_list ap;\n\tva_start(ap, fmt);\n\tg(forced, ap);\n\tva_end(ap);\n}\n',
    ],
  ])('no guarded log: %s', (_, body) => {
    expect(guardedLogsOf(log(body)).f).toBeUndefined();
  });
});
