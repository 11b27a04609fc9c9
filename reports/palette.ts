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

