/**
 * `bench --profile`: named bundles of the flags the README documents, so
 * the common sweeps have a name instead of a line of flags to copy. A flag
 * the user typed always wins over the profile's value for it; yargs fills
 * in defaults, so "typed" is read from the raw argv, not from what parsed.
 */
import { UsageError } from '../core/errors.js';

/** Flag values by kebab-case flag name, as a person would type them. */
type Flags = Readonly<Record<string, string | boolean>>;

export const PROFILES = {
  /** `npm run bench`: every strategy and workload, short windows, an idle sweep at 10 active, the micro-benchmarks. */
  quick: {
    duration: '1',
    warmup: '0.25',
    'chat-connections': '10,100',
    // Inside the default run's few minutes: http's 1,000-connection row, with thread-per-connection starting its pool there, is full's.
    'http-connections': '10,100',
    idle: '0,1000,10000',
    'idle-connections': '10',
    'idle-workloads': 'echo',
    micro: true,
  },
  /** `npm run bench:ci`: echo at 100 connections, five repetitions, what `check` needs to gate. */
  ci: {
    workloads: 'echo',
    connections: '100',
    duration: '1',
    warmup: '0.25',
    repeat: '5',
  },
  /** The thorough sweep: longer windows, five repetitions, the idle sweep for echo and http, the micro-benchmarks. */
  full: {
    duration: '3',
    warmup: '1',
    repeat: '5',
    'chat-connections': '10,100',
    idle: '0,1000,10000',
    'idle-connections': '10',
    micro: true,
  },
} as const satisfies Record<string, Flags>;

export type ProfileName = keyof typeof PROFILES;

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function profileOption(flag: string, v: unknown): ProfileName {
  const hit = PROFILE_NAMES.find((p) => p === v);
  if (hit === undefined) throw new UsageError(`${flag} must be one of ${PROFILE_NAMES.join(', ')}, got "${String(v)}"`);
  return hit;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The flags present on a command line, kebab-case, whatever their spelling (--x=1, --no-x, --fooBar). */
export function typedFlags(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const a of raw) {
    if (a === '--') break;
    const m = /^--(?:no-)?([^=]+)/.exec(a);
    if (m?.[1] !== undefined) out.add(kebab(m[1]));
  }
  return out;
}

/**
 * The profile's values for the flags not typed, written into argv under
 * both of yargs' spellings (kebab and camel case); returns the flags it set.
 */
export function applyProfile(argv: Record<string, unknown>, name: ProfileName, typed: ReadonlySet<string>): Set<string> {
  const set = new Set<string>();
  for (const [flag, value] of Object.entries(PROFILES[name] as Flags)) {
    if (typed.has(flag)) continue;
    argv[flag] = value;
    argv[camel(flag)] = value;
    set.add(flag);
  }
  return set;
}

/**
 * Drop the profile's values that the typed flags made meaningless, rather
 * than fail on them: its --chat-connections (--http-connections) when
 * --workloads leaves chat (http) out; its idle sweep when none of the workloads it names is measured; its
 * --idle-connections and --idle-workloads when a typed --idle has no
 * non-zero count for them to apply to.
 */
export function fitProfile(argv: Record<string, unknown>, fromProfile: ReadonlySet<string>, workloads: readonly string[], idleHolders: readonly string[]): void {
  const drop = (flag: string): void => {
    if (!fromProfile.has(flag)) return;
    argv[flag] = undefined;
    argv[camel(flag)] = undefined;
  };
  if (!workloads.includes('chat')) drop('chat-connections');
  if (!workloads.includes('http')) drop('http-connections');
  let holders = idleHolders;
  if (fromProfile.has('idle-workloads')) {
    const named = argv['idle-workloads'];
    holders = (typeof named === 'string' ? named : '')
      .split(',')
      .filter((w) => workloads.includes(w));
    if (holders.length > 0) argv['idle-workloads'] = argv['idleWorkloads'] = holders.join(',');
    else drop('idle-workloads');
  }
  // Nothing left to hold idle connections: the profile's idle sweep goes (a typed one stays, and is refused if it cannot run).
  if (holders.length === 0 && fromProfile.has('idle')) argv['idle'] = '0';
  const given = argv['idle'];
  const idle = (typeof given === 'string' ? given : '0').split(',');
  if (idle.every((n) => Number(n) === 0)) {
    drop('idle-connections');
    drop('idle-workloads');
  }
}
