/**
 * Runs a synchronous step as a promise, a throw becoming a rejection.
 *
 * Filesystem work is done with Deno's synchronous calls (several times
 * cheaper per call, and the first asynchronous one starts a thread pool at
 * over 10 ms); the functions keep promise signatures so callers and callout
 * brackets treat every step alike.
 */
export function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (e) {
    return Promise.reject(e);
  }
}
