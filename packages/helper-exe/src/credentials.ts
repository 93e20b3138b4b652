/**
 * Who the process is. A helper carries the credentials it was started with into the program, so
 * warm helpers from before a setuid/setgid (say, a server dropping root) must never be used after it.
 */
function identity(): string {
  return `${process.getuid?.()}:${process.geteuid?.()}:${process.getgid?.()}:${process.getegid?.()}`;
}

export class CredentialsWatch {
  #seen = identity();

  /** Whether the uids/gids changed since the last call (or since creation). */
  changed(): boolean {
    const now = identity();
    if (now === this.#seen) return false;
    this.#seen = now;
    return true;
  }
}
