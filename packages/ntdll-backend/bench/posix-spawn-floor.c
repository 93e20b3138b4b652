/* The floor for quick.mjs: posix_spawn + waitpid of argv[3] in a loop, with a touched ballast of
 * argv[2] MiB so the parent's size matches the Node side. Prints the median ms per spawn and the
 * median ms spent inside posix_spawn itself (glibc's vfork window: the floor of any block). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[1]);
  size_t ballast = (size_t)atol(argv[2]) << 20;
  char *memory = malloc(ballast ? ballast : 1);
  if (!memory) return 3;
  memset(memory, 1, ballast);
  char *args[] = {argv[3], NULL};
  double *ms = calloc((size_t)n, sizeof *ms), *in_call = calloc((size_t)n, sizeof *in_call);
  if (!ms || !in_call) return 3;
  for (int i = 0; i < n; i++) {
    struct timespec a, b, c;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid;
    if (posix_spawn(&pid, argv[3], NULL, NULL, args, environ) != 0) return 4;
    clock_gettime(CLOCK_MONOTONIC, &b);
    int status;
    waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &c);
    ms[i] = (c.tv_sec - a.tv_sec) * 1e3 + (c.tv_nsec - a.tv_nsec) / 1e6;
    in_call[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  }
  qsort(ms, (size_t)n, sizeof *ms, by_value);
  qsort(in_call, (size_t)n, sizeof *in_call, by_value);
  printf("%.4f %.4f\n", ms[n / 2], in_call[n / 2]);
  return memory[ballast / 2] == 1 ? 0 : 5;
}
