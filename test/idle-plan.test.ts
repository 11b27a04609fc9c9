/** Planning and preflight of the idle sweep: which cells get idle connections, and the machine's limits with them counted. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idleCounts, planCells } from '../harness/bench.js';
import { checkEphemeralPorts, checkFdLimit, checkMemory, MEMORY_PER_CONNECTION } from '../harness/preflight.js';
import { UsageError } from '../core/errors.js';
import { fdLimit } from '../harness/machine.js';
import { testPlan } from './helpers/fixtures.js';

describe('idle sweep plan', () => {
  const plan = testPlan({ strategies: ['libuv', 'epoll'], workloads: ['echo', 'http', 'chat'], connections: [10, 100], idle: [0, 1000, 10000], idleConnections: [10], idleWorkloads: ['echo'] });

  test('the idle values run where the plan says, idle 0 everywhere else', () => {
    assert.deepEqual(idleCounts(plan, 'echo', 10), [0, 1000, 10000]);
    assert.deepEqual(idleCounts(plan, 'echo', 100), [0], 'not at an active count outside --idle-connections');
    assert.deepEqual(idleCounts(plan, 'http', 10), [0], 'not for a workload outside --idle-workloads');
    assert.deepEqual(idleCounts(testPlan({ workloads: ['chat'], idle: [0, 50] }), 'chat', 10), [0], 'chat has no idle connections');
    assert.deepEqual(idleCounts(testPlan({}), 'echo', 10), [0], 'a plan from before idle existed');
  });

  test('each (workload, connections, idle) is a cell of its own, strategies innermost', () => {
    const keys = planCells(plan, '127.0.0.1').map((s) => `${s.workload}/${s.connections}/${s.idle}/${s.strategy}`);
    assert.deepEqual(keys.slice(0, 6), ['echo/10/0/libuv', 'echo/10/0/epoll', 'echo/10/1000/libuv', 'echo/10/1000/epoll', 'echo/10/10000/libuv', 'echo/10/10000/epoll']);
    assert.equal(keys.filter((k) => k.startsWith('echo/100/')).length, 2, 'echo at 100 runs idle 0 only');
    assert.equal(keys.length, 6 + 2 + 4 + 4, 'echo 6+2, http 2×2, chat 2×2');
  });
});

describe('preflight counts idle connections', () => {
  const limit = fdLimit();
  test('the fd budget holds active + idle per process, and names the limit and the flags', () => {
    assert.doesNotThrow(() => checkFdLimit(10, limit - 10 - 64));
    assert.throws(
      () => checkFdLimit(10, limit),
      (e: unknown) => e instanceof UsageError && /10 connections \+ \d+ idle need ~\d+ open fds in each of the server and load processes but the fd limit \(ulimit -n\) is \d+/.test(e.message) && /--connections or --idle/.test(e.message) && !e.message.includes('\n'),
    );
  });

  test('ephemeral ports: one per connection, active or idle', () => {
    assert.doesNotThrow(() => checkEphemeralPorts(10, 1000));
    assert.throws(() => checkEphemeralPorts(10, 70_000), /10 connections \+ 70000 idle need 70010 ephemeral ports but net\.ipv4\.ip_local_port_range gives \d+ .*widen it/);
  });

  test('memory: a conservative allowance per connection against what is available', () => {
    const avail = 1000 * MEMORY_PER_CONNECTION;
    assert.doesNotThrow(() => checkMemory(500, 500, avail));
    assert.throws(() => checkMemory(500, 501, avail), /500 connections \+ 501 idle need about \d+ MiB of memory .* but \d+ MiB is available/);
  });
});
