/**
 * io_uring: the availability probe (every failure maps to a clear reason,
 * nothing throws), the raw ring (batched NOPs, a READ completed by another
 * fd's write), and the strategy listed as unavailable when turned off.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { describe, test } from 'node:test';
import { interpretProbe, ioUringAvailability } from '../strategies/io-uring/availability.js';
import { SysError } from '../strategies/sys/errors.js';
import * as sys from '../strategies/sys/index.js';
import * as uring from '../strategies/sys/io-uring.js';
import { CLI } from './helpers/serve.js';

const e = os.constants.errno;
const fakeEnv = (over: Partial<uring.ProbeEnv>): uring.ProbeEnv => ({
  platform: 'linux',
  kernelRelease: '6.8.0',
  disabledSysctl: () => '0\n',
  trySetup: () => 0x3ffff,
  ...over,
});

describe('probeIoUring maps each failure to a reason', () => {
  test('a working ring is available', () => {
    assert.deepEqual(uring.probeIoUring(fakeEnv({})), { ok: true, features: 0x3ffff }, 'expected ok with the features');
  });
  const cases: [string, Partial<uring.ProbeEnv>, RegExp][] = [
    ['not Linux', { platform: 'darwin' }, /Linux-only \(this is darwin\)/],
    ['kernel.io_uring_disabled = 2', { disabledSysctl: () => '2\n' }, /disabled by the administrator \(kernel\.io_uring_disabled = 2\)/],
    ['kernel too old', { kernelRelease: '5.15.0-91-generic' }, /needs Linux >= 6\.0.*5\.15\.0/],
    ['ENOSYS', { trySetup: () => { throw new SysError('io_uring_setup', e.ENOSYS); } }, /syscalls are missing.*ENOSYS/],
    ['EPERM (seccomp)', { trySetup: () => { throw new SysError('io_uring_setup', e.EPERM); } }, /not permitted.*EPERM.*seccomp/],
    [
      'EPERM with io_uring_disabled = 1',
      { disabledSysctl: () => '1', trySetup: () => { throw new SysError('io_uring_setup', e.EPERM); } },
      /EPERM.*io_uring_disabled = 1 allows only the io_uring_group/,
    ],
    ['no buffer rings', { trySetup: () => { throw new SysError('io_uring_register', e.EINVAL, '(IORING_REGISTER_PBUF_RING)'); } }, /too old.*PBUF_RING/],
    ['a non-errno failure', { trySetup: () => { throw new Error('boom'); } }, /setup failed: boom/],
    ['no FAST_POLL feature', { trySetup: () => uring.IORING_FEAT_NODROP }, /too old here/],
  ];
  for (const [what, env, want] of cases) {
    test(what, () => {
      const r = uring.probeIoUring(fakeEnv(env));
      assert.equal(r.ok, false, `expected unavailable for ${what}`);
      if (!r.ok) assert.match(r.reason, want, `reason for ${what}`);
    });
  }
});

describe('interpretProbe reads the probe child', () => {
  const base = { status: 0, signal: null, stdout: '', stderr: '' };
  test('ok JSON → available', () => {
    assert.deepEqual(interpretProbe({ ...base, stdout: '{"ok":true,"features":1}\n' }), { ok: true }, 'expected available');
  });
  test('reason JSON → that reason', () => {
    const r = interpretProbe({ ...base, stdout: '{"ok":false,"reason":"nope"}\n' });
    assert.deepEqual(r, { ok: false, reason: 'nope' }, 'expected the child reason verbatim');
  });
  test('killed by SIGSYS → seccomp', () => {
    const r = interpretProbe({ ...base, status: null, signal: 'SIGSYS' });
    assert.ok(!r.ok && /SIGSYS.*seccomp/.test(r.reason), `expected a seccomp reason, got ${JSON.stringify(r)}`);
  });
  test('crash with stderr → exit code and first stderr line', () => {
    const r = interpretProbe({ ...base, status: 1, stderr: 'Error: cannot load libc\n    at x\n' });
    assert.ok(!r.ok && r.reason === 'io_uring probe failed (exit 1): Error: cannot load libc', `got ${JSON.stringify(r)}`);
  });
  test('turned off by the environment variable', () => {
    const r = ioUringAvailability({ IOMODELS_DISABLE_IO_URING: '1' });
    assert.deepEqual(r, { ok: false, reason: 'turned off by IOMODELS_DISABLE_IO_URING=1' }, 'expected the env reason');
  });
});

test('serve refuses an unavailable io-uring with one clear line and exit 2', () => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--strategy', 'io-uring', '--workload', 'echo', '--port', '0'], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, IOMODELS_DISABLE_IO_URING: '1' },
  });
  assert.equal(r.status, 2, `expected exit 2, got ${r.status ?? r.signal}`);
  assert.equal(r.stderr.trim(), 'iomodels: strategy io-uring is unavailable here: turned off by IOMODELS_DISABLE_IO_URING=1', 'stderr line');
  const list = spawnSync(process.execPath, [CLI, 'list', '--json'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, IOMODELS_DISABLE_IO_URING: '1' } });
  const s = (JSON.parse(list.stdout) as { strategies: { name: string; available: boolean }[] }).strategies.find((x) => x.name === 'io-uring');
  assert.equal(s?.available, false, 'list --json shows io-uring as unavailable');
});

const live = ioUringAvailability();
describe('the raw ring', { skip: live.ok ? false : `io_uring unavailable here: ${live.ok ? '' : live.reason}` }, () => {
  test('one enter submits a batch of 100 NOPs and every CQE carries its user_data', () => {
    const ring = new uring.IoUring({ sqEntries: 128, cqEntries: 256, bufCount: 4, bufSize: 64 });
    try {
      assert.equal(ring.sqSpace, 128, 'an empty SQ has every entry free');
      for (let i = 0; i < 100; i++) ring.prep(uring.IORING_OP_NOP, -1, 0, 0, 0, 0, 0, 0, 0, 1000 + i, 0xabcdef01);
      assert.equal(ring.pending, 100, '100 SQEs filled, none submitted');
      assert.equal(ring.submit(true), 100, 'io_uring_enter submitted all 100');
      const seen: number[] = [];
      ring.reap((lo, hi, res) => {
        assert.equal(hi, 0xabcdef01, 'user_data high word survives the round trip');
        assert.equal(res, 0, 'NOP completes with 0');
        seen.push(lo);
      });
      assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => 1000 + i), 'one CQE per NOP');
      assert.equal(ring.reap(() => assert.fail('no CQE expected')), 0, 'the CQ is empty after reaping');
    } finally {
      ring.close();
    }
  });

  test('a READ parked on a pipe completes when the other end is written', () => {
    const ring = new uring.IoUring({ sqEntries: 8, cqEntries: 16, bufCount: 4, bufSize: 64 });
    const [r, w] = sys.pipe();
    try {
      const buf = sys.allocBuffer(16);
      ring.prep(uring.IORING_OP_READ, r, sys.addressOf(buf), 16, 0, 0, 0, 0, 0, 7, 0);
      assert.equal(ring.submit(false), 1, 'READ submitted');
      assert.equal(ring.reap(() => undefined), 0, 'nothing completes before the write');
      assert.equal(sys.write(w, Buffer.from('ring!'), 0, 5), 5, 'wrote 5 bytes');
      ring.submit(true);
      let res = -1;
      ring.reap((lo, _hi, n) => {
        assert.equal(lo, 7, 'the READ completed');
        res = n;
      });
      assert.equal(res, 5, 'the READ got the 5 bytes');
      assert.equal(buf.subarray(0, 5).toString(), 'ring!', 'the kernel copied them into our buffer');
    } finally {
      sys.close(r);
      sys.close(w);
      ring.close();
    }
  });
});
