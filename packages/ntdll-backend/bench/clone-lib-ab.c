// Old against new libfxclone.so, from C: alternates fx_clone_spawn + waitpid of one program (PROG, default
// /bin/true) between the two libraries, SIGPIPE and SIGXFSZ ignored as in Node, and prints the medians (us).
//   git show REV:packages/ntdll-backend/native/clone-spawn.c > /tmp/old.c   # then build it as scripts/build-native.mjs does
//   cc -O2 -o /tmp/clone-lib-ab packages/ntdll-backend/bench/clone-lib-ab.c
//   PROG=packages/cli/dist/native/bench-target /tmp/clone-lib-ab /tmp/libold.so packages/ntdll-backend/dist/linux-x64/libfxclone.so [spawns] [ballast MiB]
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
typedef int (*spawn_fn)(void *, uint64_t, void *, char *, char *const *);
typedef void *(*stack_fn)(uint64_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
struct lib { spawn_fn spawn; void *stack; int state[3]; char blob[512]; };
static void blob_for(char *b, const char *prog) {
  memset(b, 0, 512);
  uint32_t *h = (uint32_t *)b;
  // header: flags, pgid, setsid_action, setpgid_action, nops, ops, file, argv, envp, relocated, sigmask(u64 at 40)
  h[2] = h[3] = (uint32_t)-1;
  h[4] = 1; h[5] = 48;               // one op: closefrom 3
  int32_t *op = (int32_t *)(b + 48); op[0] = 5; op[1] = 3; op[5] = -1;
  uint32_t argv = 48 + 24; h[7] = argv;
  uint32_t str = argv + 16; strcpy(b + str, prog); h[6] = str;
  *(uint64_t *)(b + argv) = str;
}
int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN); signal(SIGXFSZ, SIG_IGN); /* as Node */
  int n = argc > 3 ? atoi(argv[3]) : 2000;
  size_t mib = argc > 4 ? atoi(argv[4]) : 0;
  char *ballast = malloc(mib << 20); if (mib) memset(ballast, 1, mib << 20);
  struct lib libs[2];
  for (int i = 0; i < 2; i++) {
    void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    libs[i].spawn = (spawn_fn)dlsym(h, "fx_clone_spawn");
    libs[i].stack = ((stack_fn)dlsym(h, "fx_stack_new"))(65536);
    blob_for(libs[i].blob, getenv("PROG") ? getenv("PROG") : "/bin/true");
  }
  double *t[2] = {malloc(n * sizeof(double)), malloc(n * sizeof(double))};
  for (int k = 0; k < n; k++)
    for (int j = 0; j < 2; j++) {
      int i = (k & 1) ? j : 1 - j;
      double t0 = now();
      int pid = libs[i].spawn(libs[i].stack, 65536, libs[i].state, libs[i].blob, environ);
      int st; waitpid(pid, &st, 0);
      t[i][k] = now() - t0;
      if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "lib %d: status %x err %d\n", i, st, libs[i].state[1]); return 1; }
    }
  qsort(t[0], n, sizeof(double), cmp); qsort(t[1], n, sizeof(double), cmp);
  printf("old %.1f us  new %.1f us  new/old %.3f  (p25 %.1f / %.1f)\n", t[0][n / 2], t[1][n / 2], t[1][n / 2] / t[0][n / 2], t[0][n / 4], t[1][n / 4]);
}
