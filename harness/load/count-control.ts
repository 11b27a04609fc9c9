/**
 * The load child switches the server's kernel counters (perf stat's control
 * FIFO, harness/anatomy.ts) on and off on the window's own edges: the
 * harness hears of a phase only after IPC, and by then the load may be
 * tearing down (closing thousands of idle connections), which the server's
 * counts must not include. A write of a few bytes to a FIFO perf holds open
 * never blocks.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';

export type CountCommand = 'enable' | 'disable';

export class CountControl {
  #fd: number | undefined;
  #failed = false;

  constructor(private readonly path: string) {}

  /** Send one command; false when the FIFO could not be written (the harness then sees no switch and discards the counts). */
  send(cmd: CountCommand): boolean {
    if (this.#failed) return false;
    try {
      // Non-blocking: perf opened its end read-write at start-up, so this never waits for a reader.
      this.#fd ??= openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(this.#fd, `${cmd}\n`);
      return true;
    } catch {
      this.#failed = true;
      return false;
    }
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
