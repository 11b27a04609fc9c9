/**
 * A protocol that throws must cost only its own connection: the strategy
 * closes that connection, counts the error and logs its first occurrence.
 */
import { bump, type ServerCounters } from '../core/strategy.js';

let logged = false;

export function protocolFault(counters: ServerCounters, err: unknown): void {
  bump(counters, 'errors: protocol');
  if (!logged) {
    logged = true;
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`iomodels: protocol error (connection closed; further ones only counted): ${msg}\n`);
  }
}
