// typescript-eslint's strictTypeChecked rules need the TypeScript 5 compiler
// API (see README, "Development"), which is why TypeScript 7 is not used.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const KOFFI = { name: 'koffi', message: 'Only strategies/sys/ may touch FFI.' };

/** no-restricted-imports for one layer: `files` may not import a path that matches `regex`. */
function layer(files, regex, why) {
  return { files, rules: { 'no-restricted-imports': ['error', { paths: [KOFFI], patterns: [{ regex, message: `${why} (../shared/ARCHITECTURE.md, Layers).` }] }] } };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'results/**', 'docs/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Arrow shorthands for callbacks (`on('x', () => f())`) are idiomatic Node.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      'no-restricted-imports': ['error', { paths: [KOFFI] }],
    },
  },
  // The layers of ARCHITECTURE.md: each folder imports only what its arrows allow.
  layer(['core/**/*.ts'], '^\\.\\./', 'core/ holds contracts only: it imports nothing of the project'),
  layer(['workloads/**/*.ts'], '/(strategies|harness|reports)/', 'workloads/ are sans-IO: they import core/ only'),
  layer(['strategies/**/*.ts'], '/(workloads|harness|reports)/', "a strategy moves bytes for any protocol it is handed (rebuilt from the spec's module) and knows nothing of the measurement"),
  layer(['strategies/sys/**/*.ts', 'strategies/selectors/**/*.ts'], '^\\.\\./(?!sys/)|/(core|workloads|harness|reports)/', 'the FFI layer and the Selector family know nothing above them'),
  layer(['reports/**/*.ts'], '/(harness|strategies|workloads)/', 'reports are pure functions of results files: they import core/ only'),
  layer(['harness/load/**/*.ts'], '^\\.\\./[^./]|/strategies/(?!sys/|selectors/)|/reports/', 'the load side uses core/, workloads/ and the sys and selectors layers only'),
  {
    // The FFI boundary: koffi returns untyped values; wrappers type them here.
    files: ['strategies/sys/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./|/(core|workloads|harness|reports)/', message: 'the FFI layer knows nothing above it (../shared/ARCHITECTURE.md, Layers).' }] }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' }] }],
    },
  },
);
