/** FdSet, the fd_set bitmap select(2) reads: bit layout, and the fds it must refuse. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as sys from '../strategies/sys/index.js';

test('FdSet sets, tests and clears bit n at byte n>>3, bit n&7', () => {
  const s = new sys.FdSet();
  for (const fd of [0, 7, 8, 63, 1023]) {
    s.set(fd);
    assert.ok(s.has(fd), `fd ${fd} is in the set`);
    assert.equal(((s.bits[fd >> 3] ?? 0) >> (fd & 7)) & 1, 1, `fd ${fd} is bit ${fd & 7} of byte ${fd >> 3}`);
  }
  assert.equal(s.has(1), false, 'an fd never set is not in the set');
  s.clear(8);
  assert.equal(s.has(8), false, 'clear removes it');
  assert.ok(s.has(7) && s.has(63), 'and only it');
  const copy = new sys.FdSet();
  copy.copyFrom(s);
  assert.deepEqual([...copy.bits], [...s.bits], 'copyFrom copies every bit');
  s.zero();
  assert.ok(s.bits.every((b) => b === 0), 'zero empties the set');
  assert.ok(copy.has(1023), 'the copy is its own bitmap');
});

test('FdSet refuses fd FD_SETSIZE (1024) and fd -1 with FdSetSizeError, and writes nothing', () => {
  assert.equal(sys.FD_SETSIZE, 1024);
  const s = new sys.FdSet();
  for (const fd of [sys.FD_SETSIZE, sys.FD_SETSIZE + 1, -1]) {
    assert.throws(
      () => s.set(fd),
      (e: unknown) => e instanceof sys.FdSetSizeError && e.fd === fd,
      `set(${fd}) throws FdSetSizeError naming the fd`,
    );
    assert.equal(s.has(fd), false, `has(${fd}) is false`);
    s.clear(fd);
  }
  assert.ok(s.bits.every((b) => b === 0), 'no refused fd touched the bitmap');
  assert.equal(s.bits.length, sys.FD_SETSIZE / 8, 'the bitmap is FD_SETSIZE bits');
});
