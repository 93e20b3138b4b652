const CHUNK = 256 * 2 ** 20;

/** Touched memory that raises the parent's RSS, which is what makes fork-based spawns slow. */
export class Ballast {
  #chunks: Buffer[] = [];

  /** Grows the process RSS to about `bytes` (never shrinks); returns the RSS reached. */
  growTo(bytes: number): number {
    let missing = bytes - process.memoryUsage.rss();
    while (missing > 0) {
      const size = Math.min(CHUNK, missing);
      this.#chunks.push(Buffer.alloc(size).fill(1)); // filled, so every page is resident
      missing -= size;
    }
    return process.memoryUsage.rss();
  }

  release(): void {
    this.#chunks = [];
  }
}
