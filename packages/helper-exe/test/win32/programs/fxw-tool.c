/* Test tool for the Windows helper's tests (mingw-w64):
 *   fxw-tool whoami MS CODE  prints "pid=P ppid=Q", sleeps MS milliseconds, exits with CODE
 *   fxw-tool ps NAME         prints the pids of the running processes whose image is NAME, one a line
 *   fxw-tool leave MS        starts "fxw-tool whoami MS 0" without handles, prints its pid, exits 0 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <tlhelp32.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static DWORD parent_of(DWORD pid) {
  PROCESSENTRY32 e = {.dwSize = sizeof e};
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  DWORD parent = 0;
  for (BOOL more = Process32First(snap, &e); more; more = Process32Next(snap, &e))
    if (e.th32ProcessID == pid) parent = e.th32ParentProcessID;
  CloseHandle(snap);
  return parent;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "whoami")) {
    printf("pid=%lu ppid=%lu\n", GetCurrentProcessId(), parent_of(GetCurrentProcessId()));
    fflush(stdout);
    Sleep((DWORD)atol(argv[2]));
    return (int)strtoul(argv[3], NULL, 10);
  }
  if (argc == 3 && !strcmp(argv[1], "ps")) {
    PROCESSENTRY32 e = {.dwSize = sizeof e};
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    for (BOOL more = Process32First(snap, &e); more; more = Process32Next(snap, &e))
      if (!_stricmp(e.szExeFile, argv[2])) printf("%lu\n", e.th32ProcessID);
    CloseHandle(snap);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "leave")) {
    char self[MAX_PATH], line[MAX_PATH + 64];
    GetModuleFileNameA(NULL, self, sizeof self);
    snprintf(line, sizeof line, "\"%s\" whoami %s 0", self, argv[2]);
    STARTUPINFOA si = {.cb = sizeof si, .dwFlags = STARTF_USESTDHANDLES}; /* no std handles: the caller's pipes reach EOF */
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(self, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 3;
    printf("%lu\n", pi.dwProcessId);
    return 0;
  }
  fprintf(stderr, "usage: fxw-tool whoami MS CODE | ps NAME | leave MS\n");
  return 2;
}
