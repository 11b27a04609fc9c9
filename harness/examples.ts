/**
 * The `Examples:` every command's --help ends with: the common tasks, each
 * a line that runs as written (test/cli-examples.test.ts runs them all, a
 * bench with --dry-run). `$0` is yargs' stand-in for the program's name.
 * Keep each command under 72 characters: yargs gives the column half the
 * help's width, and a wrapped example cannot be copied.
 */

type Example = [command: string, description: string];

export const EXAMPLES = {
  list: [
    ['$0 list', 'the strategies and workloads, and which run on this machine'],
    ['$0 list --json', 'the same as JSON, for scripts'],
  ],
  serve: [
    ['$0 serve --strategy epoll --workload http --port 8080', 'an epoll web server on 127.0.0.1:8080 (load it with bench --target 127.0.0.1:8080)'],
    ['$0 serve --strategy blocking --workload echo --max-threads 64', 'a thread-per-connection echo server with 64 pool threads, at a free port it prints'],
  ],
  bench: [
    ['$0 bench --profile quick', 'the default sweep (npm run bench): every strategy and workload, an idle sweep, the micro-benchmarks'],
    ['$0 bench --workloads echo --connections 100 --repeat 5', 'echo only, five repetitions a cell, for check (npm run bench:ci is --profile ci)'],
    ['$0 bench --workloads echo --connections 10 --idle 0,1000,10000', 'the C10K sweep: 10 active connections beside 0, 1,000 and 10,000 idle ones'],
    ['$0 bench --target 127.0.0.1:8080 --workloads http', 'load a server of your own that speaks http (start it first; --target-pid PID adds its CPU and memory)'],
    ['$0 bench --target 127.0.0.1:80 --workloads http --path /index.html', 'nginx or any HTTP/1.1 server: a 2xx with a well-framed body verifies (--expect-status, --expect-body ask for more)'],
  ],
  report: [
    ['$0 report results.json', 're-render report.md, report.html and the charts beside results.json'],
    ['$0 report results.json --out site', 'the same into another directory, e.g. to publish report.html'],
  ],
  check: [
    ['$0 check --baseline base.json --current head.json', 'the CI gate: REGRESSION, OK or INCONCLUSIVE per metric of every cell; exit 1 on a REGRESSION'],
    ['$0 check --baseline base.json --current head.json --tolerance 10%', 'changes up to 10% are OK (--png check.png also draws both runs with their intervals)'],
  ],
  compare: [
    ['$0 compare --current-args "--extra-syscalls 1" --workloads http', 'this tree against itself plus one syscall per request: the gate sees it'],
    ['$0 compare --baseline ../base --current . --budget 10m', 'two built checkouts, interleaved rounds until resolved or 10 minutes'],
  ],
  micro: [
    ['$0 micro', 'readiness-wait cost against watched fds, and FFI and EAGAIN costs, into results/micro-<timestamp>'],
    ['$0 micro --counts 10,100,1000 --time 100', 'a quicker pass over fewer fd counts'],
  ],
} as const satisfies Record<string, readonly Example[]>;

/** yargs wants mutable pairs. */
export function examplesOf(command: keyof typeof EXAMPLES): [string, string][] {
  return EXAMPLES[command].map(([c, d]) => [c, d]);
}
