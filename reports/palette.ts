/**
 * One fixed colour per strategy, the same in every chart, so a reader learns
 * "green is epoll" once. Unknown names get a colour hashed from the name:
 * stable across runs and charts, never dependent on plotting order.
 */

const FIXED: Readonly<Record<string, string>> = {
  libuv: '#1f77b4',
  'node-http': '#17becf',
  blocking: '#d62728',
  busypoll: '#ff7f0e',
  select: '#9467bd',
  poll: '#8c564b',
  epoll: '#2ca02c',
  kqueue: '#bcbd22',
  sigio: '#e377c2',
  'io-uring': '#222222',
  external: '#7f7f7f',
};

/** FNV-1a, 32 bit: a tiny stable string hash. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): string => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255).toString(16).padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** The colour of a strategy, as #rrggbb. */
export function strategyColour(name: string): string {
  const fixed = FIXED[name];
  if (fixed !== undefined) return fixed;
  // Mid lightness and saturation keep hashed colours readable on white.
  return hslToHex(fnv1a(name) % 360, 0.6, 0.42);
}


/**
 * One colour per syscall name in the anatomy's stacked bars, by family, so
 * a reader sees phase 1 (the waits: blues), phase 2 (the receives: greens),
 * the replies (oranges), thread wake-ups (purple) and signals (red) at a
 * glance; "other" is grey, unknown names hash to a muted colour.
 */
const SYSCALL_FIXED: Readonly<Record<string, string>> = {
  epoll_wait: '#1f4e9c',
  epoll_pwait: '#6f9fd8',
  epoll_pwait2: '#6f9fd8',
  poll: '#2b6cb0',
  ppoll: '#2b6cb0',
  select: '#3d5a98',
  pselect6: '#3d5a98',
  io_uring_enter: '#111111',
  recvfrom: '#2ca02c',
  read: '#5cb85c',
  recvmsg: '#98df8a',
  readv: '#98df8a',
  sendto: '#ff7f0e',
  write: '#ffbb78',
  sendmsg: '#e6a100',
  writev: '#e6a100',
  futex: '#9467bd',
  rt_sigreturn: '#d62728',
  accept4: '#17becf',
  close: '#8c564b',
  getpid: '#e377c2',
  other: '#bbbbbb',
};

export function syscallColour(name: string): string {
  return SYSCALL_FIXED[name] ?? hslToHex(fnv1a(name) % 360, 0.35, 0.55);
}
