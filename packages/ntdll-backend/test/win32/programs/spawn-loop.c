/* spawn-loop PROGRAM COUNT: starts PROGRAM COUNT times with CreateProcessW, waiting for each, and
 * prints the median milliseconds per spawn+wait. The benchmark's floor: Windows process creation
 * from C, with no Node, libuv or koffi in the way. */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int wmain(int argc, wchar_t **argv) {
  if (argc < 3) return 2;
  int count = _wtoi(argv[2]);
  double *ms = calloc((size_t)count, sizeof *ms);
  LARGE_INTEGER frequency, start, end;
  QueryPerformanceFrequency(&frequency);
  for (int i = 0; i < count; i++) {
    STARTUPINFOW si = {sizeof si};
    PROCESS_INFORMATION pi;
    wchar_t command[1024];
    _snwprintf(command, 1024, L"\"%ls\" exit 0", argv[1]);
    QueryPerformanceCounter(&start);
    if (!CreateProcessW(argv[1], command, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi)) return 1;
    WaitForSingleObject(pi.hProcess, INFINITE);
    QueryPerformanceCounter(&end);
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    ms[i] = (double)(end.QuadPart - start.QuadPart) * 1000.0 / (double)frequency.QuadPart;
  }
  qsort(ms, (size_t)count, sizeof *ms, compare);
  printf("%.1f\n", ms[count / 2]);
  return 0;
}
