/**
 * sockaddr_in / sockaddr_in6 encoding. Only IP literals: name resolution is
 * the caller's job (it may block, and belongs outside the reactor thread).
 */
import * as net from 'node:net';
import {
  AF_INET,
  AF_INET6,
  SOCKADDR_HAS_LEN,
  SOCKADDR_IN6_SIZE,
  SOCKADDR_IN_SIZE,
} from './constants.js';

export interface SockAddr {
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

function writeFamily(buf: Buffer, family: number, size: number): void {
  if (SOCKADDR_HAS_LEN) {
    buf.writeUInt8(size, 0);
    buf.writeUInt8(family, 1);
  } else {
    buf.writeUInt16LE(family, 0);
  }
}

function readFamily(buf: Buffer): number {
  return SOCKADDR_HAS_LEN ? buf.readUInt8(1) : buf.readUInt16LE(0);
}

/** 16 bytes of an IPv6 literal ("::1", "fe80::1%2" without the scope). */
function ipv6Bytes(host: string): Buffer {
  const out = Buffer.alloc(16);
  let text = host;
  const pct = text.indexOf('%');
  if (pct >= 0) text = text.slice(0, pct);
  // An embedded dotted IPv4 tail ("::ffff:1.2.3.4") becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (net.isIPv4(tail)) {
    const p = tail.split('.').map(Number);
    const hi = (((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16);
    const lo = (((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups = rest === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function ipv6Text(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(i * 2));
  // Compress the longest run of zero groups, as inet_ntop does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Encode host:port; throws TypeError for anything but an IP literal. */
export function encodeSockAddr(host: string, port: number): Buffer {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`bad port ${port}`);
  if (net.isIPv4(host)) {
    const buf = Buffer.alloc(SOCKADDR_IN_SIZE);
    writeFamily(buf, AF_INET, SOCKADDR_IN_SIZE);
    buf.writeUInt16BE(port, 2);
    host.split('.').forEach((o, i) => buf.writeUInt8(Number(o), 4 + i));
    return buf;
  }
  if (net.isIPv6(host)) {
    const buf = Buffer.alloc(SOCKADDR_IN6_SIZE);
    writeFamily(buf, AF_INET6, SOCKADDR_IN6_SIZE);
    buf.writeUInt16BE(port, 2);
    ipv6Bytes(host).copy(buf, 8);
    return buf;
  }
  throw new TypeError(`not an IP address: "${host}"`);
}

export function familyOf(host: string): number {
  return net.isIPv6(host) ? AF_INET6 : AF_INET;
}

export function decodeSockAddr(buf: Buffer): SockAddr {
  const family = readFamily(buf);
  const port = buf.readUInt16BE(2);
  if (family === AF_INET) {
    return { host: `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`, port, family: 4 };
  }
  if (family === AF_INET6) return { host: ipv6Text(buf.subarray(8, 24)), port, family: 6 };
  throw new TypeError(`unsupported address family ${family}`);
}
