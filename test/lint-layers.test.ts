/**
 * The layers of ../shared/ARCHITECTURE.md are enforced by `npm run lint`
 * (eslint.config.js, no-restricted-imports per folder). This test lints one
 * import at a time, as if written at the top of a real file of each layer,
 * with the project's own config: every forbidden arrow must be an error and
 * every allowed one must pass, so a rule that stops matching turns it red.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** [a real file of the layer, an import added to it, whether lint must refuse it]. */
const ARROWS: readonly (readonly [string, string, boolean])[] = [
  ['core/results.ts', '../harness/options.js', true],
  ['core/results.ts', '../workloads/protocols.js', true],
  ['workloads/echo/client.ts', '../../strategies/registry.js', true],
  ['workloads/echo/client.ts', '../../harness/runner.js', true],
  ['workloads/echo/client.ts', '../../core/client.js', false],
  ['strategies/epoll.ts', '../workloads/protocols.js', true],
  ['strategies/epoll.ts', '../harness/options.js', true],
  ['strategies/epoll.ts', '../core/strategy.js', false],
  ['strategies/sys/fdset.ts', '../../core/errors.js', true],
  ['strategies/selectors/index.ts', '../epoll.js', true],
  ['reports/stats.ts', '../harness/runner.js', true],
  ['reports/stats.ts', '../workloads/protocols.js', true],
  ['reports/stats.ts', '../strategies/registry.js', true],
  ['reports/stats.ts', '../core/results.js', false],
  ['harness/load/load-loop.ts', '../../reports/stats.js', true],
  ['harness/load/load-loop.ts', '../../strategies/epoll.js', true],
  ['harness/load/load-loop.ts', '../runner.js', true],
  ['harness/load/load-loop.ts', '../../strategies/sys/index.js', false],
  ['harness/runner.ts', 'koffi', true],
];

describe('lint enforces the layers', { timeout: 120_000 }, () => {
  const eslint = new ESLint({ cwd: ROOT });
  for (const [file, spec, refused] of ARROWS) {
    test(`${file} importing ${spec}: ${refused ? 'refused' : 'allowed'}`, async () => {
      const path = join(ROOT, file);
      const text = `import * as probe from '${spec}';\nvoid probe;\n${readFileSync(path, 'utf8')}`;
      const [result] = await eslint.lintText(text, { filePath: path });
      const hits = (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' && m.line === 1);
      if (refused) {
        assert.equal(hits.length, 1, `lint must refuse the arrow; messages: ${JSON.stringify(result?.messages.map((m) => m.message))}`);
        assert.match(hits[0]?.message ?? '', /ARCHITECTURE\.md|FFI/, 'the message says which rule');
      } else {
        assert.equal(hits.length, 0, `lint must allow the arrow: ${hits.map((m) => m.message).join('; ')}`);
      }
    });
  }
});
