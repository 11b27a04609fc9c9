/** Polling for a condition that another thread, process or the event loop makes true. */

/**
 * Check `pred` every `everyMs` until it holds or `timeoutMs` has passed;
 * resolves with its last value, so the caller's assertion says what failed.
 */
export async function until(pred: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  return (await poll(() => (pred() ? true : undefined), timeoutMs, everyMs)) ?? pred();
}

/** Poll until `find()` returns something, or throw after `timeoutMs`. */
export async function waitFor<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const v = await poll(find, timeoutMs, 50);
  if (v === undefined) throw new Error(`timed out waiting for ${what}`);
  return v;
}

/** The one polling loop: `find()` every `everyMs` until it gives a value, or undefined once `timeoutMs` has passed. */
async function poll<T>(find: () => T | undefined, timeoutMs: number, everyMs: number): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = find();
    if (v !== undefined) return v;
    if (performance.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
