/**
 * `--extra-syscalls N`: the http protocol asks its host for N syscalls per
 * request, pipelined requests included, and nothing changes on the wire.
 * Sans-IO: a recording host stands in for the strategy's (the real one,
 * getpid through libc, is counted per strategy in test/serial/extra-syscalls).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHttpResponder, createProtocol } from '../workloads/http/protocol.js';
import type { Conn, Hub, ProtocolHost } from '../core/protocol.js';

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const hub: Hub = { broadcast: () => undefined, size: 1 };

function recording(): ProtocolHost & { calls: number[] } {
  const calls: number[] = [];
  return { calls, syscalls: (n) => calls.push(n) };
}

function served(opts: Record<string, number>, host: ProtocolHost | undefined, requests: number): string {
  const out: Buffer[] = [];
  const conn: Conn = { id: 1, write: (b) => out.push(Buffer.from(b)), close: () => undefined };
  createProtocol(opts, host).open(conn, hub).onData(Buffer.from(GET.repeat(requests)));
  // The Date header changes once a second; the rest must not change at all.
  return Buffer.concat(out).toString('latin1').replace(/Date: [^\r]*/g, 'Date: -');
}

describe('--extra-syscalls', () => {
  test('N per request, pipelined requests each', () => {
    const host = recording();
    served({ extraSyscalls: 3 }, host, 4);
    assert.deepEqual(host.calls, [3, 3, 3, 3], 'four pipelined requests, 3 syscalls each');
    const none = recording();
    served({}, none, 2);
    assert.deepEqual(none.calls, [], 'none asked: the host is never called');
  });

  test('nothing changes on the wire', () => {
    assert.equal(served({ extraSyscalls: 5 }, recording(), 3), served({}, undefined, 3), 'the same bytes with and without the knob');
  });

  test('the responder of a strategy with its own parser (node-http) makes them too', () => {
    const host = recording();
    const r = createHttpResponder({ extraSyscalls: 2 }, host);
    r.respond('GET', '/', true);
    r.respond('GET', '/', true);
    assert.deepEqual(host.calls, [2, 2], 'two requests');
  });

  test('asked for without a host, the protocol refuses to start rather than silently skip them', () => {
    assert.throws(() => createProtocol({ extraSyscalls: 1 }), /extraSyscalls needs a strategy/);
  });
});
