/** The names the recording code declares: a child's use of one is refused (it would read the recording's). */
export const OWN_NAMES =
  /^(?:fx|fx_pid|fx_ptm|fx_pts|fx_fd[0-9]*|fx_len|fx_loop_\w+|fx_sig[0-9]+|fx_local_\w+|fx_alloc\w*)$/;

/** The name of a shadowed local's copy: fx_name, or fx_local_name where fx_name is one of the recording's own (a local
 * `fd` next to the fd an open() returns, fx_fd). */
export function shadowName(name: string): string {
  return OWN_NAMES.test(`fx_${name}`) ? `fx_local_${name}` : `fx_${name}`;
}
