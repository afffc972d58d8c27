/**
 * Reads of a gatherer that do not depend on each other go out together: over ssh each read
 * costs a round trip, and several in flight cost about one; locally they overlap the waits
 * on the file system. Results keep the order of the input, so facts do not depend on timing.
 */

/** Files read at once by one gatherer (the SFTP channel pipelines them). */
export const readsInFlight = 64;

/**
 * `fn` over `items`, at most `limit` at a time, results in the order of `items`. A window, not
 * waves: the next item starts as soon as any one finishes, so one slow read (a large file, a
 * busy link) does not hold back the `limit - 1` reads beside it.
 */
export async function mapOrdered<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  limit = readsInFlight,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        failed = true; // start nothing more: the whole map has failed
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
