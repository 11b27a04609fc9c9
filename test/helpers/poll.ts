/** Polling for a condition that another thread, process or the event loop makes true. */

/**
 * Check `pred` every `everyMs` until it holds or `timeoutMs` has passed;
 * resolves with its last value, so the caller's assertion says what failed.
 */
export async function until(pred: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return pred();
}
