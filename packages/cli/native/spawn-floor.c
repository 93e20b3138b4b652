/* The C floor of `forkexec bench`: posix_spawn + waitpid measured from C, with the same
 * touched ballast as the Node parent, driven line by line so that it alternates with the
 * Node methods run by run.
 *
 *   spawn-floor BALLAST_BYTES TARGET
 *   stdin  "s"                  one spawn, waited for  -> "<spawn_ns> <exit_ns>"
 *          "b N"                N spawns back to back  -> "<exit_ns> ..." (N numbers)
 *          "t IN_FLIGHT MS"     keep IN_FLIGHT children running for MS milliseconds
 *                                                     -> "<completed> <elapsed_ns>"
 *   stdout "ready <rss_bytes>" once the ballast is touched; EOF on stdin ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *target;
static posix_spawn_file_actions_t actions;
static posix_spawnattr_t attr;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int err) {
  fprintf(stderr, "spawn-floor: %s: %s\n", what, strerror(err));
  exit(1);
}

static pid_t start(void) {
  pid_t pid;
  char *argv[] = {(char *)target, NULL};
  int err = posix_spawn(&pid, target, &actions, &attr, argv, environ);
  if (err) die(target, err);
  return pid;
}

static void reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid", errno);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "spawn-floor: %s did not exit with 0 (status %d)\n", target, status);
    exit(1);
  }
}

/* One spawn waited for: its exit time, and the time posix_spawn took in *spawn_ns. */
static int64_t one(int64_t *spawn_ns) {
  int64_t t0 = now_ns();
  pid_t pid = start();
  *spawn_ns = now_ns() - t0;
  reap(pid);
  return now_ns() - t0;
}

static void back_to_back(int n) {
  int64_t spawn_ns;
  for (int i = 0; i < n; i++) printf(i ? " %lld" : "%lld", (long long)one(&spawn_ns));
  printf("\n");
}

static void throughput(int in_flight, long ms) {
  int64_t t0 = now_ns(), deadline = t0 + (int64_t)ms * 1000000;
  long completed = 0;
  int running = 0;
  while (running < in_flight && now_ns() < deadline) start(), running++;
  while (running > 0) {
    int status;
    pid_t pid = waitpid(-1, &status, 0); /* every child of this process is ours */
    if (pid < 0) {
      if (errno == EINTR) continue;
      die("waitpid", errno);
    }
    running--, completed++;
    if (now_ns() < deadline) start(), running++;
  }
  printf("%ld %lld\n", completed, (long long)(now_ns() - t0));
}

static long long rss_bytes(void) {
  long long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%lld %lld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: spawn-floor BALLAST_BYTES TARGET\n");
    return 2;
  }
  size_t ballast = strtoull(argv[1], NULL, 10);
  target = argv[2];
  if (ballast) {
    char *mem = malloc(ballast);
    if (!mem) die("malloc", ENOMEM);
    memset(mem, 1, ballast);
  }
  /* The child gets /dev/null on 0-2, default signal dispositions and an empty mask, as
   * Node's stdio 'ignore' gives the other methods' children. */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) die("/dev/null", errno);
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; fd++) posix_spawn_file_actions_adddup2(&actions, devnull, fd);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready %lld\n", rss_bytes());
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    int in_flight, n;
    long ms;
    int64_t spawn_ns, exit_ns;
    if (line[0] == 's') {
      exit_ns = one(&spawn_ns);
      printf("%lld %lld\n", (long long)spawn_ns, (long long)exit_ns);
    } else if (sscanf(line, "b %d", &n) == 1 && n > 0)
      back_to_back(n);
    else if (sscanf(line, "t %d %ld", &in_flight, &ms) == 2 && in_flight > 0 && ms >= 0) throughput(in_flight, ms);
    else {
      fprintf(stderr, "spawn-floor: bad command: %s", line);
      return 2;
    }
  }
  return 0;
}
