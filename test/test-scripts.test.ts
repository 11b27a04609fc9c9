/**
 * `npm test` and `npm run test:serial` must run every test file on each Node
 * line CI tests (20 and 24). Node 20's `node --test DIR` walks a directory;
 * from Node 22 on every argument is a glob, so a directory matches only
 * itself and is run as a module ("Cannot find module …/dist/test": the
 * whole suite was one failing test on Node 24). The scripts therefore name
 * files through sh globs, which both lines take as plain paths. This test
 * expands each script's arguments the way npm's sh does and checks that
 * they are files, and that every test/**\/*.test.ts is among them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function script(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const s = pkg.scripts[name];
  assert.ok(s !== undefined, `package.json has no "${name}" script`);
  return s;
}

/** The paths `node --test` is handed by a script, expanded by sh in the project root. */
function testArgs(name: string): string[] {
  const command = script(name).split('&&').map((part) => part.trim()).find((part) => part.startsWith('node --test'));
  assert.ok(command !== undefined, `"${name}" runs no node --test`);
  const words = command.split(/\s+/).slice(2).filter((w) => !w.startsWith('--'));
  assert.ok(words.length > 0, `"${name}": node --test is given no paths`);
  const out = execFileSync('sh', ['-c', `printf '%s\\n' ${words.join(' ')}`], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').filter((line) => line !== '');
}

/** Every *.test.ts under dir (relative to ROOT), as the dist/ path tsc writes it to. */
function compiledTests(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.test.ts')) found.push(join('dist', relative(ROOT, p)).replace(/\.ts$/, '.js'));
    }
  };
  walk(join(ROOT, dir));
  return found.sort();
}

describe('the test scripts run every test file on Node 20 and Node 22+', () => {
  for (const [name, dir] of [['test', 'test'], ['test:serial', 'test/serial']] as const) {
    test(`npm run ${name}`, () => {
      const args = testArgs(name);
      for (const arg of args) {
        // A directory (or a glob sh left unexpanded) is what Node 22+ cannot run.
        assert.ok(statSync(join(ROOT, arg), { throwIfNoEntry: false })?.isFile() === true, `"${name}" hands node --test ${arg}, not a test file`);
      }
      const missing = compiledTests(dir).filter((file) => !args.includes(file));
      assert.deepEqual(missing, [], `"${name}" leaves these test files out`);
    });
  }
});
