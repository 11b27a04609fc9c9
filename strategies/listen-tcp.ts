/**
 * Resolve, then listen: the listening socket of every strategy that binds
 * its own (the loop servers, sigio, blocking). sys.listenTcp takes an IP
 * literal; a host name is resolved first with dns.lookup, as node:net's
 * listen() and the load side resolve it, so every strategy and its clients
 * agree on the address a name stands for. Errors (EADDRINUSE …) are
 * SysErrors, which `serve` prints as one line.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import type { StrategyOptions } from '../core/strategy.js';
import * as sys from './sys/index.js';

export async function listenTcp(
  host: string,
  port: number,
  opts: Pick<StrategyOptions, 'backlog' | 'sndbufBytes'>,
  /** Blocking: a thread sleeps in accept(2) (blocking) or io_uring parks the ACCEPT (io-uring); else O_NONBLOCK. */
  o: { readonly blocking?: boolean } = {},
): Promise<sys.Listener> {
  const ip = net.isIP(host) !== 0 ? host : (await dns.lookup(host)).address;
  return sys.listenTcp(ip, port, opts.backlog, { nonBlocking: o.blocking !== true, sndbuf: opts.sndbufBytes });
}
