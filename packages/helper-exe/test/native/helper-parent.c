/* Starts the real helper as its own child, reads its hello, prints the helper's pid, then:
 *   close: closes its end of the socket and prints how the helper ended (it must exit 0);
 *   die:   hands its socket end to a holder process (so no EOF reaches the helper) and exits:
 *          only the parent-death signal can end the helper. Prints the holder's pid too.
 * Usage: helper-parent FXHELPER close|die */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 3;
  char ppid[32];
  snprintf(ppid, sizeof ppid, "%d", (int)getpid());
  pid_t helper = fork();
  if (helper == 0) {
    dup2(sv[1], 3);
    execl(argv[1], argv[1], ppid, (char *)NULL);
    _exit(127);
  }
  close(sv[1]);
  unsigned char hello[16];
  size_t got = 0;
  while (got < sizeof hello) {
    ssize_t n = read(sv[0], hello + got, sizeof hello - got);
    if (n <= 0) return 4;
    got += (size_t)n;
  }
  printf("helper=%d\n", (int)helper);
  if (!strcmp(argv[2], "close")) {
    close(sv[0]);
    int status;
    waitpid(helper, &status, 0);
    printf("exited=%d code=%d\n", WIFEXITED(status), WEXITSTATUS(status));
    return 0;
  }
  pid_t holder = fork();
  if (holder == 0) { /* keeps the socket open, and nothing else (the test reads our stdout to EOF); the test kills it */
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (;;) pause();
  }
  printf("holder=%d\n", (int)holder);
  fflush(stdout);
  _exit(0);
}
