/**
 * The signal plumbing sigio relies on: a per-thread SIGIO mask (while the
 * main thread drains) and a thread as a socket's SIGIO owner. Read back from
 * the kernel (/proc, F_GETOWN), not from our own bookkeeping.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as sys from '../strategies/sys/index.js';

const linux = process.platform === 'linux';

/** The main thread's blocked-signal mask, from /proc (its tid is the pid). */
function blockedMask(): bigint {
  const m = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  assert.ok(m?.[1] !== undefined, 'SigBlk in /proc/self/status');
  return BigInt(`0x${m[1]}`);
}

test('blockSignal blocks and unblocks SIGIO in this thread only', { skip: linux ? false : 'reads /proc (Linux only)' }, () => {
  const bit = 1n << BigInt(sys.SIGIO - 1);
  assert.equal(blockedMask() & bit, 0n, 'SIGIO starts unblocked');
  assert.equal(sys.blockSignal(sys.SIGIO, true), 0);
  try {
    assert.equal(blockedMask() & bit, bit, 'SIGIO is blocked');
  } finally {
    assert.equal(sys.blockSignal(sys.SIGIO, false), 0);
  }
  assert.equal(blockedMask() & bit, 0n, 'SIGIO is unblocked again');
});

test('setOwnerThread makes the main thread the owner of a socket', { skip: linux ? false : 'F_SETOWN_EX is Linux-only' }, () => {
  const fd = sys.socket(sys.AF_INET, sys.SOCK_STREAM);
  try {
    assert.equal(sys.fcntl(fd, sys.F_SETOWN, process.pid), 0);
    assert.deepEqual(sys.getOwner(fd), { type: sys.F_OWNER_PID, id: process.pid }, 'F_SETOWN: the process');
    assert.equal(sys.setOwnerThread(fd, sys.getpid()), 0);
    // The main thread's tid is the pid; the type is what changed.
    assert.deepEqual(sys.getOwner(fd), { type: sys.F_OWNER_TID, id: process.pid }, 'F_SETOWN_EX: the main thread');
    assert.equal(sys.setOwnerThread(-1, sys.getpid()), -sys.EBADF, 'a bad fd is -EBADF, not a throw');
  } finally {
    sys.close(fd);
  }
});
