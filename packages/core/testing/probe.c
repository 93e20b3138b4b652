/* fxprobe: the program the conformance suite spawns. It runs the commands given as arguments,
 * left to right, and prints what the child sees (fds, cwd, ids, signals, limits, ...), so a
 * test can check what a backend's actions did. Exit status 0 unless a command says otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
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

static const char *need(int argc, char **argv, int i) {
  if (i >= argc) {
    fprintf(stderr, "fxprobe: %s needs an argument\n", argv[i - 1]);
    exit(122);
  }
  return argv[i];
}

int main(int argc, char **argv) {
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
      const char *v = getenv(need(argc, argv, ++i));
      printf("%s\n", v ? v : "<unset>");
    } else if (!strcmp(cmd, "envcount")) {
      int n = 0;
      for (char **e = environ; *e; e++) n++;
      printf("%d\n", n);
    } else if (!strcmp(cmd, "cwd")) {
      char buf[4096];
      printf("%s\n", getcwd(buf, sizeof buf) ? buf : "<error>");
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
      if (write(fd, text, strlen(text)) < 0) printf("write %d failed: %s\n", fd, strerror(errno));
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
    } else if (!strcmp(cmd, "sleep")) {
      long ms = atol(need(argc, argv, ++i));
      struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
      fflush(stdout);
      while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    } else if (!strcmp(cmd, "raise")) {
      int sig = atoi(need(argc, argv, ++i));
      fflush(stdout);
      signal(sig, SIG_DFL);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      raise(sig);
    } else {
      fprintf(stderr, "fxprobe: unknown command %s\n", cmd);
      return 124;
    }
  }
  return 0;
}
