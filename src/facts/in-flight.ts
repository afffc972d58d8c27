/**
 * Reads of a gatherer that do not depend on each other go out together: over ssh each read
 * costs a round trip, and several in flight cost about one; locally they overlap the waits
 * on the file system. Results keep the order of the input, so facts do not depend on timing.
 */

/** Files read at once by one gatherer (the SFTP channel pipelines them). */
export const readsInFlight = 64;

/** `fn` over `items`, at most `limit` at a time, results in the order of `items`. */
export async function mapOrdered<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  limit = readsInFlight,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  }
  return out;
}
