/**
 * Who the process is. A helper carries the credentials it was started with into the program, so
 * warm helpers from before a setuid/setgid (say, a server dropping root) must never be used after it.
 * The effective ids tell: every change Node's API can make (setuid, seteuid, setgid, setegid) moves
 * them, and checking only these costs two calls per spawn instead of four.
 */
export class CredentialsWatch {
  #euid = process.geteuid?.();
  #egid = process.getegid?.();

  /** Whether the effective ids read now (FdPassing.takeCheck reads them with its poll) changed since the last call (or since creation). */
  changed({ euid, egid }: { euid: number; egid: number }): boolean {
    if (euid === this.#euid && egid === this.#egid) return false;
    this.#euid = euid;
    this.#egid = egid;
    return true;
  }
}
