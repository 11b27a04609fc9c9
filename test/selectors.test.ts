/**
 * strategies/sys and strategies/selectors on real fds: pipes and loopback
 * sockets. Every case is bounded (timeouts of 0 or a few hundred ms).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createSelector, EVENT_READ, EVENT_WRITE, selectorAvailable, SelectorError, type Selector } from '../strategies/selectors/index.js';
import * as sys from '../strategies/sys/index.js';

const opened: number[] = [];
function track<T extends number[]>(...fds: T): T {
  opened.push(...fds);
  return fds;
}
after(() => {
  for (const fd of opened) sys.close(fd);
});

/** A connected loopback TCP pair: [client, server], both non-blocking. */
function tcpPair(): [number, number] {
  const l = sys.listenTcp('127.0.0.1', 0, 8);
  try {
    const c = sys.connectTcp('127.0.0.1', l.port);
    let s = -1;
    for (let i = 0; i < 1000 && s < 0; i++) s = sys.accept(l.fd);
    assert.ok(s >= 0, `accept on a loopback listener should succeed, got ${s}`);
    return track(c.fd, s);
  } finally {
    sys.close(l.fd);
  }
}

describe('sys', () => {
  test('bind to a port in use throws SysError with code EADDRINUSE', () => {
    const l = sys.listenTcp('127.0.0.1', 0, 8);
    try {
      assert.throws(
        () => sys.listenTcp('127.0.0.1', l.port, 8),
        (e: unknown) => e instanceof sys.SysError && e.code === 'EADDRINUSE' && e.syscall === 'bind',
        'second bind to the same port should fail with EADDRINUSE',
      );
    } finally {
      sys.close(l.fd);
    }
  });

  test('recv on an empty non-blocking socket returns -EAGAIN; data and EOF come through', () => {
    const [c, s] = tcpPair();
    const buf = sys.allocBuffer(64);
    assert.equal(sys.recv(s, buf, 0, 64), -sys.EAGAIN, 'empty socket: -EAGAIN as a value');
    const msg = Buffer.from('hello, world');
    assert.equal(sys.send(c, msg, 7, 5), 5, 'send of 5 bytes from offset 7');
    let n = sys.NEG_EAGAIN;
    for (let i = 0; i < 1000 && n === sys.NEG_EAGAIN; i++) n = sys.recv(s, buf, 10, 54);
    assert.equal(n, 5, 'recv returns the 5 bytes');
    assert.equal(buf.toString('latin1', 10, 15), 'world', 'bytes land at the given offset');
    sys.shutdown(c, sys.SHUT_WR);
    n = sys.NEG_EAGAIN;
    for (let i = 0; i < 1000 && n === sys.NEG_EAGAIN; i++) n = sys.recv(s, buf, 0, 64);
    assert.equal(n, 0, 'recv after the peer shut down writing returns 0 (EOF)');
  });

  test('a range outside the buffer is a RangeError, never a write past the end', () => {
    const [, s] = tcpPair();
    assert.throws(() => sys.recv(s, sys.allocBuffer(16), 10, 10), RangeError);
    assert.throws(() => sys.send(s, sys.allocBuffer(16), -1, 1), RangeError);
  });

  test('close of a bad fd returns -EBADF', () => {
    assert.equal(sys.close(1_000_000), -sys.EBADF, 'close(1e6) should be -EBADF');
  });

  test('getsockname reports IPv4 and IPv6 loopback addresses', (t) => {
    const l = sys.listenTcp('127.0.0.1', 0, 8);
    assert.equal(sys.getsockname(l.fd).host, '127.0.0.1');
    sys.close(l.fd);
    let l6: sys.Listener;
    try {
      l6 = sys.listenTcp('::1', 0, 8);
    } catch (e) {
      t.skip(`no IPv6 loopback here: ${String(e)}`);
      return;
    }
    assert.equal(l6.host, '::1', 'IPv6 loopback decodes as ::1');
    assert.ok(l6.port > 0, 'port 0 binds some port');
    sys.close(l6.fd);
  });
});

const KINDS = (['select', 'poll', 'epoll', 'kqueue'] as const).map((k) => ({ kind: k, avail: selectorAvailable(k) }));

for (const { kind, avail } of KINDS) {
  describe(`${kind} selector`, { skip: avail.ok ? false : avail.reason }, () => {
    /** Run `body` on a new selector of this kind, closed after it whatever it threw; returns the closed selector. */
    const withSelector = <T>(body: (sel: Selector<T>) => void): Selector<T> => {
      const sel = createSelector<T>(kind);
      try {
        body(sel);
      } finally {
        sel.close();
      }
      return sel;
    };

    test('reports a pipe readable only after a write, and writable at once', () => {
      withSelector<string>((sel) => {
        const [r, w] = track(...sys.pipe());
        sel.register(r, EVENT_READ, 'reader');
        sel.register(w, EVENT_WRITE, 'writer');
        let ready = sel.select(0);
        assert.deepEqual(
          ready.keys.slice(0, ready.count).map((k) => k.data),
          ['writer'],
          'only the write end is ready before any write',
        );
        assert.equal(ready.events[0], EVENT_WRITE, 'the writer is reported as EVENT_WRITE');
        sys.write(w, Buffer.from('x'), 0, 1);
        ready = sel.select(0);
        const got = new Map<string, number>();
        for (let i = 0; i < ready.count; i++) {
          const k = ready.keys[i];
          if (k !== undefined) got.set(k.data, (got.get(k.data) ?? 0) | (ready.events[i] ?? 0));
        }
        assert.deepEqual([...got.entries()].sort(), [['reader', EVENT_READ], ['writer', EVENT_WRITE]], 'both ends ready after a write');
      });
    });

    test('modify and unregister change what is reported; select(timeout) waits when nothing is ready', () => {
      withSelector<number>((sel) => {
        const [c, s] = tcpPair();
        const key = sel.register(s, EVENT_READ, 1);
        assert.equal(sel.get(s), key, 'get returns the registered key');
        assert.equal(sel.select(0).count, 0, 'nothing to read yet');
        sel.modify(s, EVENT_READ | EVENT_WRITE, 2);
        let ready = sel.select(0);
        assert.equal(ready.count, 1, 'a connected socket with an empty send buffer is writable');
        assert.equal(ready.events[0], EVENT_WRITE, 'reported as writable only');
        assert.equal(ready.keys[0]?.data, 2, 'modify replaced the data');
        sel.modify(s, EVENT_READ);
        sys.send(c, Buffer.from('ping'), 0, 4);
        ready = sel.select(500);
        assert.equal(ready.count, 1, 'readable within 500 ms of a send');
        assert.equal(ready.events[0], EVENT_READ, 'reported as readable');
        sel.unregister(s);
        assert.equal(sel.size, 0, 'no fds left');
        const t0 = performance.now();
        assert.equal(sel.select(50).count, 0, 'an unregistered fd is never reported');
        assert.ok(performance.now() - t0 >= 40, 'select(50) with nothing ready waited about 50 ms');
      });
    });

    test('a peer close is reported as readable so the owner finds the EOF', () => {
      withSelector<string>((sel) => {
        const [c, s] = tcpPair();
        sel.register(s, EVENT_READ, 'conn');
        sys.close(c);
        opened.splice(opened.indexOf(c), 1);
        const ready = sel.select(500);
        assert.equal(ready.count, 1, 'the closed peer makes the socket ready');
        assert.equal(ready.events[0], EVENT_READ, 'as readable (EOF)');
        assert.equal(sys.recv(s, sys.allocBuffer(8), 0, 8), 0, 'and recv returns EOF');
      });
    });

    test('bad registrations are refused with a SelectorError', () => {
      const closed = withSelector<null>((sel) => {
        const [r] = track(...sys.pipe());
        sel.register(r, EVENT_READ, null);
        assert.throws(() => sel.register(r, EVENT_READ, null), SelectorError, 'double register');
        assert.throws(() => sel.modify(r, 0), SelectorError, 'events 0');
        assert.throws(() => sel.unregister(r + 10_000), SelectorError, 'unknown fd');
      });
      assert.throws(() => closed.select(0), SelectorError, 'select after close');
    });
  });
}

test('select refuses fd >= FD_SETSIZE with a typed error and keeps working', () => {
  const sel = createSelector<string>('select');
  const [r, w] = track(...sys.pipe());
  const high = sys.fcntl(r, sys.F_DUPFD, sys.FD_SETSIZE + 50);
  assert.ok(high >= sys.FD_SETSIZE, `F_DUPFD should give an fd >= ${sys.FD_SETSIZE}, got ${high}`);
  track(high);
  try {
    assert.throws(
      () => sel.register(high, EVENT_READ, 'high'),
      (e: unknown) => e instanceof sys.FdSetSizeError && e.fd === high,
      'register of an fd >= FD_SETSIZE throws FdSetSizeError',
    );
    assert.equal(sel.size, 0, 'the refused fd was not recorded');
    sel.register(r, EVENT_READ, 'low');
    sys.write(w, Buffer.from('x'), 0, 1);
    const ready = sel.select(0);
    assert.equal(ready.count, 1, 'the low fd still works');
    assert.equal(ready.keys[0]?.data, 'low');
  } finally {
    sel.close();
  }
});
