/**
 * `bind`, called on first use only: later calls return its result, or throw again the error it
 * threw (a native library or symbol that failed to load does not load later), without retrying.
 */
export function bindOnce<T>(bind: () => T): () => T {
  let bound: { value: T } | undefined;
  let failure: { error: unknown } | undefined;
  return () => {
    if (bound) return bound.value;
    if (failure) throw failure.error;
    try {
      bound = { value: bind() };
      return bound.value;
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
}
