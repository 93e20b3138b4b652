/* fxhelper.exe: the Windows helper (C99, mingw-w64). Windows has no exec, so the helper is the
 * program's stand-in instead of becoming it.
 *
 * The backend creates it suspended ahead of time, with one inherited handle as its stdin: the
 * helper's end of a duplex control pipe. Its pid exists from then on. It sits alone in a job with
 * JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE whose only handle the parent holds, so it dies with the parent.
 * On a request the backend duplicates the program's three standard handles (inheritable) and that
 * job's handle into the helper, closes its own job handle, writes the request into the control
 * pipe and resumes the helper, which
 *   1. creates the program inheriting exactly those handles (PROC_THREAD_ATTRIBUTE_HANDLE_LIST); the
 *      program is in the helper's job from its creation on, and the helper holds the job's only
 *      handle: terminating the helper (the caller's kill) ends the program and what it started;
 *   2. closes its copies of the handles, replies, and closes the control pipe;
 *   3. waits for the program, lifts the job's kill-on-close (what the program left running lives
 *      on, as after a fork+exec) and exits with the program's exit code.
 * A creation failure is replied with the Win32 error before the helper exits (exit code 127).
 *
 * Protocol (version FXW_PROTOCOL_VERSION; integers little-endian):
 *   parent -> helper: {u32 'FXWQ', u32 version, u32 image chars, u32 command line chars,
 *     u32 cwd chars, u32 environment bytes, u64 stdin, u64 stdout, u64 stderr, u64 job}, then the
 *     image path, the command line and the cwd in UTF-16 without NULs, then the environment block
 *     (UTF-16, double-NUL terminated). A standard handle of 0 leaves it unset.
 *   helper -> parent: {u32 'FXWP', u32 version, u32 Win32 error (0: the program runs), u32 program pid}.
 *     FXW_REFUSED as the error: the request was malformed or of another protocol version.
 *
 * Built without the C runtime (kernel32 only): the helper starts faster with one DLL fewer to load. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#define FXW_PROTOCOL_VERSION 1u
#define FXW_REQUEST_MAGIC 0x51575846u /* "FXWQ" */
#define FXW_REPLY_MAGIC 0x50575846u   /* "FXWP" */
#define FXW_REFUSED 0xffffffffu
#define FXW_HEADER_SIZE 56
#define FXW_MAX_CHARS 32768u        /* UNICODE_STRING limit for paths and command lines */
#define FXW_MAX_ENV (64u << 20)     /* far above what Windows accepts */
#define FXW_FAILED_EXIT 127

/* gcc may emit calls to these for struct copies and zeroing even without a C runtime. */
void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

static HANDLE control;

static UINT32 get32(const unsigned char *p) {
  return (UINT32)p[0] | (UINT32)p[1] << 8 | (UINT32)p[2] << 16 | (UINT32)p[3] << 24;
}

static UINT64 get64(const unsigned char *p) {
  return (UINT64)get32(p) | (UINT64)get32(p + 4) << 32;
}

static void put32(unsigned char *p, UINT32 v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

/* Replies once, then closes the pipe: EOF tells the parent the reply is complete. */
static void reply(UINT32 error, UINT32 pid) {
  unsigned char r[16];
  DWORD written;
  put32(r, FXW_REPLY_MAGIC);
  put32(r + 4, FXW_PROTOCOL_VERSION);
  put32(r + 8, error);
  put32(r + 12, pid);
  WriteFile(control, r, sizeof r, &written, NULL);
  CloseHandle(control);
}

static void fail(UINT32 error) {
  reply(error, 0);
  ExitProcess(FXW_FAILED_EXIT);
}

static void read_exactly(void *buf, DWORD len) {
  unsigned char *p = buf;
  while (len > 0) {
    DWORD got = 0;
    if (!ReadFile(control, p, len, &got, NULL) || got == 0) fail(FXW_REFUSED); /* cut short */
    p += got;
    len -= got;
  }
}

static void *alloc(SIZE_T bytes) {
  void *p = HeapAlloc(GetProcessHeap(), 0, bytes ? bytes : 1);
  if (!p) fail(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

/* A UTF-16 string of `chars` characters from the pipe, NUL-terminated. */
static WCHAR *read_string(UINT32 chars) {
  WCHAR *s = alloc(((SIZE_T)chars + 1) * sizeof(WCHAR));
  read_exactly(s, chars * sizeof(WCHAR));
  s[chars] = 0;
  return s;
}

/* After the program's end: the job no longer kills what is left in it when the helper exits. */
static void release_job(HANDLE job) {
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
  memset(&limits, 0, sizeof limits);
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_BREAKAWAY_OK;
  SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
}

void __stdcall fxhelper_main(void) {
  unsigned char header[FXW_HEADER_SIZE];
  UINT32 image_chars, line_chars, cwd_chars, env_bytes;
  HANDLE std[3], inherited[3];
  DWORD n_inherited = 0, i, j, tries, exit_code = FXW_FAILED_EXIT;
  WCHAR *image, *line, *cwd;
  void *env;
  STARTUPINFOEXW si;
  PROCESS_INFORMATION pi;
  SIZE_T list_size = 0;
  DWORD flags = CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT;
  HANDLE job;

  control = GetStdHandle(STD_INPUT_HANDLE);
  /* The control pipe must not reach the program, whatever the handle list does. */
  SetHandleInformation(control, HANDLE_FLAG_INHERIT, 0);
  read_exactly(header, sizeof header);
  if (get32(header) != FXW_REQUEST_MAGIC || get32(header + 4) != FXW_PROTOCOL_VERSION) fail(FXW_REFUSED);
  image_chars = get32(header + 8);
  line_chars = get32(header + 12);
  cwd_chars = get32(header + 16);
  env_bytes = get32(header + 20);
  if (image_chars == 0 || image_chars > FXW_MAX_CHARS || line_chars > FXW_MAX_CHARS || cwd_chars > FXW_MAX_CHARS || env_bytes < 4 ||
      env_bytes > FXW_MAX_ENV || env_bytes % 2)
    fail(FXW_REFUSED);
  for (i = 0; i < 3; i++) std[i] = (HANDLE)(ULONG_PTR)get64(header + 24 + 8 * i);
  job = (HANDLE)(ULONG_PTR)get64(header + 48);
  if (!job) fail(FXW_REFUSED);
  image = read_string(image_chars);
  line = read_string(line_chars);
  cwd = read_string(cwd_chars);
  env = alloc(env_bytes);
  read_exactly(env, env_bytes);

  for (i = 0; i < 3; i++) {
    if (!std[i]) continue;
    for (j = 0; j < n_inherited && inherited[j] != std[i]; j++) {}
    if (j == n_inherited) inherited[n_inherited++] = std[i];
  }
  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = std[0];
  si.StartupInfo.hStdOutput = std[1];
  si.StartupInfo.hStdError = std[2];
  InitializeProcThreadAttributeList(NULL, 1, 0, &list_size);
  si.lpAttributeList = alloc(list_size);
  if (!InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &list_size)) fail(GetLastError());
  if (n_inherited &&
      !UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited, n_inherited * sizeof(HANDLE), NULL, NULL))
    fail(GetLastError());
  /* Wine answers a burst of process creations with ERROR_INTERNAL_ERROR now and then; it is
     transient there (a failed creation leaves nothing behind), so a few tries are made. */
  for (tries = 0; !CreateProcessW(image, line, NULL, NULL, n_inherited > 0, flags, env, cwd_chars ? cwd : NULL, &si.StartupInfo, &pi); tries++) {
    DWORD error = GetLastError();
    if (error != ERROR_INTERNAL_ERROR || tries == 4) fail(error);
    Sleep(10u << tries);
  }
  CloseHandle(pi.hThread);
  /* Only the program holds its pipe ends now: they reach EOF when it exits. */
  for (i = 0; i < n_inherited; i++) CloseHandle(inherited[i]);
  reply(0, pi.dwProcessId);

  WaitForSingleObject(pi.hProcess, INFINITE);
  GetExitCodeProcess(pi.hProcess, &exit_code);
  release_job(job);
  ExitProcess(exit_code);
}
