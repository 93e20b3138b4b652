/* A helper that breaks the Windows protocol, for the tests: named ...-garbage.exe it replies with
 * 16 bytes of garbage and waits; named ...-crash.exe it dies without replying; ...-mute.exe reads
 * the request, replies nothing and exits 0. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <string.h>

int main(void) {
  char self[MAX_PATH];
  GetModuleFileNameA(NULL, self, sizeof self);
  HANDLE control = GetStdHandle(STD_INPUT_HANDLE);
  char buf[48];
  DWORD n;
  if (strstr(self, "garbage")) {
    WriteFile(control, "not a reply at all", 16, &n, NULL);
    Sleep(INFINITE);
  }
  if (strstr(self, "crash")) *(volatile int *)0 = 1;
  ReadFile(control, buf, sizeof buf, &n, NULL);
  return 0;
}
