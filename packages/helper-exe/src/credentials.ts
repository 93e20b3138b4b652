/**
 * Who the process is. A helper carries the credentials it was started with into the program, so
 * warm helpers from before a setuid/setgid (say, a server dropping root) must never be used after it.
 * The effective ids tell: every change Node's API can make (setuid, seteuid, setgid, setegid) moves
 * them, and checking only these costs two calls per spawn instead of four.
 */
export class CredentialsWatch {
  #euid = process.geteuid?.();
  #egid = process.getegid?.();

  /** Whether the effective uid or gid changed since the last call (or since creation). */
  changed(): boolean {
    const euid = process.geteuid?.();
    const egid = process.getegid?.();
    if (euid === this.#euid && egid === this.#egid) return false;
    [this.#euid, this.#egid] = [euid, egid];
    return true;
  }
}
