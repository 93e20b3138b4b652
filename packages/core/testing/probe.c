/* fxprobe: the program the conformance suite spawns. It runs the commands given as arguments,
 * left to right, and prints what the child sees (fds, cwd, ids, signals, limits, ...), so a
 * test can check what a backend's actions did. Exit status 0 unless a command says otherwise.
 * On Windows (mingw-w64) it reads its arguments, environment and cwd as UTF-16 and prints UTF-8
 * without newline translation; argv, exit, echo, env, envcount, cwd, cat, spew, churn, write and
 * sleep work there, and handle tells what a handle value refers to in the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#include <direct.h>
#include <io.h>
#define read _read
#define write _write
#else
#include <signal.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
#endif

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, (unsigned)len);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(120);
    }
    buf += n;
    len -= (size_t)n;
  }
}

static void spew(int fd, long long bytes) {
  char block[65536];
  for (size_t i = 0; i < sizeof block; i++) block[i] = (char)('a' + i % 26);
  while (bytes > 0) {
    size_t n = bytes < (long long)sizeof block ? (size_t)bytes : sizeof block;
    write_all(fd, block, n);
    bytes -= (long long)n;
  }
}

#ifndef _WIN32
static int resource_of(const char *name) {
  static const struct { const char *name; int res; } table[] = {
    {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA}, {"fsize", RLIMIT_FSIZE},
    {"nofile", RLIMIT_NOFILE}, {"stack", RLIMIT_STACK}, {"as", RLIMIT_AS},
#ifdef RLIMIT_NPROC
    {"nproc", RLIMIT_NPROC},
#endif
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0) return table[i].res;
  fprintf(stderr, "fxprobe: unknown rlimit %s\n", name);
  exit(121);
}

static void print_limit(rlim_t v) {
  if (v == RLIM_INFINITY) printf("unlimited");
  else printf("%llu", (unsigned long long)v);
}

#endif

static const char *need(int argc, char **argv, int i) {
  if (i >= argc) {
    fprintf(stderr, "fxprobe: %s needs an argument\n", argv[i - 1]);
    exit(122);
  }
  return argv[i];
}

#ifdef _WIN32
static char *utf8_of(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s = malloc((size_t)n);
  WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL);
  return s;
}

static wchar_t *utf16_of(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
  wchar_t *w = malloc((size_t)n * sizeof *w);
  MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
  return w;
}

/* What `value` (a handle number, or stdin/stdout/stderr) refers to in this process: none, closed,
 * pipe, char (a console or NUL), the final path of a file, or other (an event, a process...). */
static void print_handle(const char *value) {
  HANDLE h = !strcmp(value, "stdin") ? GetStdHandle(STD_INPUT_HANDLE)
             : !strcmp(value, "stdout") ? GetStdHandle(STD_OUTPUT_HANDLE)
             : !strcmp(value, "stderr") ? GetStdHandle(STD_ERROR_HANDLE)
             : (HANDLE)(uintptr_t)strtoull(value, NULL, 0);
  DWORD flags;
  if (h == NULL || h == INVALID_HANDLE_VALUE) printf("none\n");
  else if (!GetHandleInformation(h, &flags)) printf("closed\n");
  else switch (GetFileType(h)) {
    case FILE_TYPE_PIPE: printf("pipe\n"); break;
    case FILE_TYPE_CHAR: printf("char\n"); break;
    case FILE_TYPE_DISK: {
      wchar_t path[32768];
      DWORD n = GetFinalPathNameByHandleW(h, path, 32768, 0);
      const wchar_t *shown = n > 4 && n < 32768 && !wcsncmp(path, L"\\\\?\\", 4) ? path + 4 : path;
      printf("%s\n", n > 0 && n < 32768 ? utf8_of(shown) : "disk");
      break;
    }
    default: printf("other\n");
  }
}

struct churn_writer { int fd; long long total; };

/* Writes spew's pattern to one fd (a thread of churn). */
static DWORD WINAPI churn_write(void *arg) {
  struct churn_writer *w = arg;
  spew(w->fd, w->total);
  return 0;
}

/* The arguments as CommandLineToArgvW splits the command line, in UTF-8; binary stdio.
 * shell32 is loaded at run time so that the probe builds without extra libraries. */
static char **windows_argv(int *argc) {
  typedef wchar_t **(WINAPI *split_fn)(const wchar_t *, int *);
  split_fn split = (split_fn)(void (*)(void))GetProcAddress(LoadLibraryW(L"shell32.dll"), "CommandLineToArgvW");
  wchar_t **wargv = split(GetCommandLineW(), argc);
  char **argv = malloc(((size_t)*argc + 1) * sizeof *argv);
  for (int i = 0; i < *argc; i++) argv[i] = utf8_of(wargv[i]);
  argv[*argc] = NULL;
  for (int fd = 0; fd <= 2; fd++) _setmode(fd, _O_BINARY);
  return argv;
}
#endif

int main(int argc, char **argv) {
#ifdef _WIN32
  argv = windows_argv(&argc);
#endif
  for (int i = 1; i < argc; i++) {
    const char *cmd = argv[i];
    if (!strcmp(cmd, "argv")) { /* prints the whole vector and ends the command list */
      for (int j = 0; j < argc; j++) printf("%s\n", argv[j]);
      return 0;
    } else if (!strcmp(cmd, "exit")) {
      fflush(stdout);
      return atoi(need(argc, argv, ++i));
    } else if (!strcmp(cmd, "echo")) {
      printf("%s\n", need(argc, argv, ++i));
    } else if (!strcmp(cmd, "env")) {
#ifdef _WIN32
      const wchar_t *w = _wgetenv(utf16_of(need(argc, argv, ++i)));
      const char *v = w ? utf8_of(w) : NULL;
#else
      const char *v = getenv(need(argc, argv, ++i));
#endif
      printf("%s\n", v ? v : "<unset>");
    } else if (!strcmp(cmd, "envcount")) {
      int n = 0;
#ifdef _WIN32
      /* Entries such as "=C:=C:\\dir" are the per-drive cwds Windows keeps, not variables; and
       * Wine's loader adds WINE* variables, SystemDrive and SystemRoot to every process. */
      int wine = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
      wchar_t *block = GetEnvironmentStringsW();
      for (wchar_t *e = block; *e; e += wcslen(e) + 1)
        n += *e != L'=' && !(wine && (!wcsncmp(e, L"WINE", 4) || !_wcsnicmp(e, L"SystemDrive=", 12) || !_wcsnicmp(e, L"SystemRoot=", 11)));
      FreeEnvironmentStringsW(block);
#else
      for (char **e = environ; *e; e++) n++;
#endif
      printf("%d\n", n);
    } else if (!strcmp(cmd, "cwd")) {
#ifdef _WIN32
      wchar_t buf[32768];
      printf("%s\n", _wgetcwd(buf, 32768) ? utf8_of(buf) : "<error>");
#else
      char buf[4096];
      printf("%s\n", getcwd(buf, sizeof buf) ? buf : "<error>");
#endif
    } else if (!strcmp(cmd, "cat")) {
      fflush(stdout);
      char buf[65536];
      ssize_t n;
      while ((n = read(0, buf, sizeof buf)) != 0) {
        if (n < 0) {
          if (errno == EINTR) continue;
          return 123;
        }
        write_all(1, buf, (size_t)n);
      }
    } else if (!strcmp(cmd, "spew")) {
      int fd = atoi(need(argc, argv, ++i));
      long long bytes = atoll(need(argc, argv, ++i));
      fflush(stdout);
      spew(fd, bytes);
    } else if (!strcmp(cmd, "write")) {
      int fd = atoi(need(argc, argv, ++i));
      const char *text = need(argc, argv, ++i);
      fflush(stdout);
      if (write(fd, text, (unsigned)strlen(text)) < 0) printf("write %d failed: %s\n", fd, strerror(errno));
    } else if (!strcmp(cmd, "sleep")) {
      long ms = atol(need(argc, argv, ++i));
      fflush(stdout);
#ifdef _WIN32
      Sleep((DWORD)ms);
#else
      struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
      while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
#endif
#ifdef _WIN32
    } else if (!strcmp(cmd, "handle")) {
      print_handle(need(argc, argv, ++i));
    } else if (!strcmp(cmd, "churn")) { /* as below: a thread per output stream, stdin read here */
      long long total = atoll(need(argc, argv, ++i)), in = 0;
      unsigned hash = 2166136261u;
      static char buf[65536];
      fflush(stdout);
      struct churn_writer writers[2] = {{1, total}, {2, total}};
      HANDLE threads[2];
      for (int k = 0; k < 2; k++) threads[k] = CreateThread(NULL, 0, churn_write, &writers[k], 0, NULL);
      int n;
      while ((n = read(0, buf, sizeof buf)) > 0) {
        in += n;
        for (int k = 0; k < n; k++) hash = (hash ^ (unsigned char)buf[k]) * 16777619u;
      }
      WaitForMultipleObjects(2, threads, TRUE, INFINITE);
      printf("in=%lld fnv=%08x\n", in, hash);
#else
    } else if (!strcmp(cmd, "fds")) {
      long max = sysconf(_SC_OPEN_MAX);
      if (max < 0 || max > 65536) max = 65536;
      const char *sep = "";
      for (int fd = 0; fd < max; fd++)
        if (fcntl(fd, F_GETFD) != -1) {
          printf("%s%d", sep, fd);
          sep = " ";
        }
      printf("\n");
    } else if (!strcmp(cmd, "churn")) { /* writes <bytes> to fds 1 and 2 while reading fd 0 to EOF, all at */
      /* once (spew's pattern), then "in=<bytes read> fnv=<FNV-1a of them>" on stdout */
      long long total = atoll(need(argc, argv, ++i)), done[3] = {0, 0, 0}, in = 0;
      unsigned hash = 2166136261u;
      static char block[65536], buf[65536];
      for (size_t k = 0; k < sizeof block; k++) block[k] = (char)('a' + k % 26);
      fflush(stdout);
      int reading = 1;
      for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      while (reading || done[1] < total || done[2] < total) {
        struct pollfd p[3] = {{reading ? 0 : -1, POLLIN, 0}, {done[1] < total ? 1 : -1, POLLOUT, 0}, {done[2] < total ? 2 : -1, POLLOUT, 0}};
        if (poll(p, 3, -1) < 0) {
          if (errno == EINTR) continue;
          return 125;
        }
        if (p[0].revents) {
          ssize_t n = read(0, buf, sizeof buf);
          if (n == 0) reading = 0;
          else if (n > 0) {
            in += n;
            for (ssize_t k = 0; k < n; k++) hash = (hash ^ (unsigned char)buf[k]) * 16777619u;
          } else if (errno != EAGAIN && errno != EINTR) return 125;
        }
        for (int fd = 1; fd <= 2; fd++) {
          if (!p[fd].revents) continue;
          size_t at = (size_t)(done[fd] % (long long)sizeof block), n = sizeof block - at;
          if ((long long)n > total - done[fd]) n = (size_t)(total - done[fd]);
          ssize_t w = write(fd, block + at, n);
          if (w > 0) done[fd] += w;
          else if (errno != EAGAIN && errno != EINTR) return 125;
        }
      }
      for (int fd = 0; fd <= 2; fd++) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      printf("in=%lld fnv=%08x\n", in, hash);
    } else if (!strcmp(cmd, "fdpath")) {
      char link[64], target[4096];
      snprintf(link, sizeof link, "/proc/self/fd/%s", need(argc, argv, ++i));
      ssize_t n = readlink(link, target, sizeof target - 1);
      target[n < 0 ? 0 : n] = 0;
      printf("%s\n", n < 0 ? "<closed>" : target);
    } else if (!strcmp(cmd, "umask")) {
      mode_t m = umask(0);
      umask(m);
      printf("%03o\n", (unsigned)m);
    } else if (!strcmp(cmd, "ids")) {
      printf("pid=%d ppid=%d pgid=%d sid=%d uid=%d gid=%d groups=", (int)getpid(), (int)getppid(), (int)getpgid(0),
             (int)getsid(0), (int)getuid(), (int)getgid());
      gid_t groups[256];
      int n = getgroups(256, groups);
      for (int j = 0; j < n; j++) printf("%s%d", j ? "," : "", (int)groups[j]);
      printf("\n");
    } else if (!strcmp(cmd, "sigs")) {
      sigset_t blocked;
      sigprocmask(SIG_SETMASK, NULL, &blocked);
      printf("blocked=");
      const char *sep = "";
      for (int s = 1; s < 32; s++)
        if (sigismember(&blocked, s) == 1) printf("%s%d", sep, s), sep = ",";
      printf(" ignored=");
      sep = "";
      for (int s = 1; s < 32; s++) {
        struct sigaction sa;
        if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) printf("%s%d", sep, s), sep = ",";
      }
      printf("\n");
    } else if (!strcmp(cmd, "rlimit")) {
      struct rlimit rl;
      getrlimit(resource_of(need(argc, argv, ++i)), &rl);
      print_limit(rl.rlim_cur);
      printf(" ");
      print_limit(rl.rlim_max);
      printf("\n");
    } else if (!strcmp(cmd, "nice")) {
      errno = 0;
      printf("%d\n", getpriority(PRIO_PROCESS, 0));
    } else if (!strcmp(cmd, "raise")) {
      int sig = atoi(need(argc, argv, ++i));
      fflush(stdout);
      signal(sig, SIG_DFL);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      raise(sig);
#endif
    } else {
      fprintf(stderr, "fxprobe: unknown command %s\n", cmd);
      return 124;
    }
  }
  return 0;
}
