/**
 * errno names for the Win32 errors CreateProcessW reports in the helper, matching what the ntdll
 * backend reports for the NTSTATUS values behind them.
 */
const WIN32_ERRNO = new Map<number, string>([
  [2, 'ENOENT'], // ERROR_FILE_NOT_FOUND
  [3, 'ENOENT'], // ERROR_PATH_NOT_FOUND
  [267, 'ENOENT'], // ERROR_DIRECTORY: the working directory is missing or no directory
  [123, 'EINVAL'], // ERROR_INVALID_NAME
  [5, 'EACCES'], // ERROR_ACCESS_DENIED
  [32, 'ETXTBSY'], // ERROR_SHARING_VIOLATION
  [11, 'ENOEXEC'], // ERROR_BAD_FORMAT
  [191, 'ENOEXEC'], // ERROR_INVALID_EXE_SIGNATURE
  [193, 'ENOEXEC'], // ERROR_BAD_EXE_FORMAT
  [216, 'ENOEXEC'], // ERROR_EXE_MACHINE_TYPE_MISMATCH
  [8, 'ENOMEM'], // ERROR_NOT_ENOUGH_MEMORY
  [14, 'ENOMEM'], // ERROR_OUTOFMEMORY
  [1450, 'ENOMEM'], // ERROR_NO_SYSTEM_RESOURCES
  [206, 'ENAMETOOLONG'], // ERROR_FILENAME_EXCED_RANGE
]);

export function win32Errno(error: number): string | undefined {
  return WIN32_ERRNO.get(error);
}
