// forkexec.h from C++: the header compiles as C++ (extern "C" linkage, no C-only syntax) and the C runtime links to
// it. Run by test/libforkexec.test.ts: cpp-header-test FXPROBE starts the probe with a checked close and a dup2, and
// prints ok when the probe's echo came through the dup'd fd; a closed fd's checked close fails the start with EBADF.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkexec.h"

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int p[2];
  if (pipe(p) < 0) return 1;
  forkexec_actions *fx = forkexec_actions_new();
  forkexec_dup2(fx, p[1], 1);
  forkexec_close_checked(fx, p[1]);
  forkexec_close(fx, p[0]);
  char *args[] = {const_cast<char *>("fxprobe"), const_cast<char *>("echo"), const_cast<char *>("from-cpp"), nullptr};
  pid_t pid = fork_before_exec(argv[1], args, environ, fx, 0);
  forkexec_actions_free(fx);
  close(p[1]);
  if (pid < 0) return std::perror("fork_before_exec"), 1;
  char buf[64] = {0};
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n <= 0 || std::strncmp(buf, "from-cpp", 8) != 0 || !WIFEXITED(status)) return std::fprintf(stdout, "got %s\n", buf), 1;
  forkexec_actions *closed = forkexec_actions_new();
  forkexec_close_checked(closed, p[1]); /* closed above */
  errno = 0;
  if (fork_before_exec(argv[1], args, environ, closed, 0) != -1 || errno != EBADF) return std::puts("closed fd"), 1;
  forkexec_actions_free(closed);
  close(p[0]);
  std::puts("ok");
  return 0;
}
