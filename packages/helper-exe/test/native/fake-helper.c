/* Helpers that misbehave on purpose, one behaviour per build (-DFAKE_MODE=...), for pool.test.ts.
 * Each speaks just enough of the protocol (native/fxhelper.c) to reach its fault. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* PROTOCOL: the version the package speaks, given by the test (-DPROTOCOL=...). */
#define GARBAGE_HELLO 1
#define WRONG_VERSION 2
#define GARBAGE_REPLY 3
#define CRASH_MID_REQUEST 4
#define TRUNCATED_REPLY 5
#define DIES_WHEN_WARM 6

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void hello(uint32_t version) {
  unsigned char f[16];
  put32(f, 0x50525846u);
  put32(f + 4, 1);
  put32(f + 8, version);
  put32(f + 12, (uint32_t)getpid());
  send(3, f, sizeof f, MSG_NOSIGNAL);
}

/* Waits for the request header (and its fds), as a real helper would. */
static void await_request(void) {
  unsigned char header[16];
  char control[4096];
  struct iovec iov = {header, sizeof header};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(3, &msg, 0) <= 0) _exit(0);
}

static void linger(void) {
  char c;
  while (read(3, &c, 1) > 0) {}
  _exit(0);
}

int main(void) {
  switch (FAKE_MODE) {
    case GARBAGE_HELLO:
      send(3, "this is not a frame at all", 16, MSG_NOSIGNAL);
      linger();
      break;
    case WRONG_VERSION:
      hello(99);
      linger();
      break;
    case GARBAGE_REPLY:
      hello(PROTOCOL);
      await_request();
      send(3, "garbage garbage!", 16, MSG_NOSIGNAL);
      linger();
      break;
    case CRASH_MID_REQUEST:
      hello(PROTOCOL);
      await_request();
      raise(SIGSEGV);
      break;
    case TRUNCATED_REPLY:
      hello(PROTOCOL);
      await_request();
      send(3, "FXRP\2", 5, MSG_NOSIGNAL);
      _exit(0);
    case DIES_WHEN_WARM:
      hello(PROTOCOL);
      _exit(3);
  }
  return 0;
}
