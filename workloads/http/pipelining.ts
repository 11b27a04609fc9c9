/** Requests in flight per connection, shared by the node:net and selector HTTP drivers. */
import type { ProtocolOptions } from '../../core/protocol.js';

export function httpPipelining(opts: { readonly protocol: ProtocolOptions }): number {
  // One request at a time when the server closes after each response.
  if (opts.protocol['httpClose'] === true) return 1;
  const v = opts.protocol['pipelining'];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}
