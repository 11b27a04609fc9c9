/** Small node:net client helpers for conformance tests. */
import assert from 'node:assert/strict';
import * as net from 'node:net';

export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Collect everything the socket receives until it ends or `bytes` arrived. */
export function readBytes(s: net.Socket, bytes: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out with ${got} of ${bytes} bytes`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= bytes) {
        cleanup();
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onError);
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', onError);
  });
}

/** Resolve with every byte received until the peer closes. */
export function readUntilEnd(s: net.Socket, timeoutMs = 20_000): Promise<Buffer> {
  return readBytes(s, Number.POSITIVE_INFINITY, timeoutMs);
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * A sleep that incoming data cuts short: sleep(ms) resolves after `ms`, or
 * at the next wake() if that comes first. A reader waits on its socket's
 * 'data' events this way without polling hot or sleeping through a chunk.
 */
export class Wakeup {
  #wake: (() => void) | null = null;

  wake(): void {
    this.#wake?.();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** The bytes a socket has received since this was attached to it. */
export class ByteCount {
  #got = 0;
  readonly #wakeup = new Wakeup();

  constructor(s: net.Socket) {
    s.on('data', (d: Buffer) => {
      this.#got += d.length;
      this.#wakeup.wake();
    });
  }

  get got(): number {
    return this.#got;
  }

  /**
   * Until `want` bytes in all have come, looking at least every `pollMs`;
   * fails with `stalled(got)` once `timeoutMs` has gone by without them.
   */
  async reach(want: number, timeoutMs: number, pollMs: number, stalled: (got: number) => string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.#got < want) {
      assert.ok(performance.now() < deadline, stalled(this.#got));
      await this.#wakeup.sleep(pollMs);
    }
  }
}
