/**
 * node-http: the reference. node:http (llhttp in C++) on Node's own libuv
 * loop, serving the same page with the same headers as our sans-IO http
 * workload. The IO model is libuv's (one thread blocks in epoll_wait for
 * every fd, phase 1; libuv copies, phase 2); what differs is the parser and
 * the request/response objects Node builds, so libuv × http against this
 * prices our own parser. http workload only.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { buildResponse, httpDate, NOT_FOUND_BODY, PAGE_BYTES, PAGE_CONTENT_TYPE, SERVER_NAME } from '../workloads/http/page.js';
import { burnCpu, httpServerOptions } from '../workloads/http/protocol.js';
import type { ProtocolSpec } from '../workloads/protocol.js';
import { listenNodeServer } from './node-sndbuf.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from './strategy.js';

const CLOSE_GRACE_MS = 500;

function wantsKeepAlive(req: http.IncomingMessage): boolean {
  const tokens = (req.headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim());
  if (tokens.includes('close')) return false;
  return req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 ? true : tokens.includes('keep-alive');
}

export function createNodeHttpServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  const o = httpServerOptions(spec.options);
  const counters: ServerCounters = {};
  const sockets = new Set<net.Socket>();

  const send = (res: http.ServerResponse, status: number, body: Buffer, type: string, keep: boolean, withBody: boolean): void => {
    res.writeHead(status, {
      Server: SERVER_NAME,
      'Content-Type': type,
      'Content-Length': body.length,
      Connection: keep ? 'keep-alive' : 'close',
    });
    res.end(withBody ? body : undefined);
  };

  const server = http.createServer(
    {
      noDelay: true,
      maxHeaderSize: o.limits.maxHeaderBytes,
      headersTimeout: o.headerTimeoutMs,
      keepAliveTimeout: o.idleTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > o.limits.maxBody) {
        req.resume();
        send(res, 413, Buffer.from('413\n'), 'text/plain; charset=utf-8', false, true);
        return;
      }
      // Read and discard the body, then answer, as our own server does.
      req.resume();
      req.once('end', () => {
        burnCpu(o.workUs);
        const head = req.method === 'HEAD';
        if (!head && req.method !== 'GET') {
          res.setHeader('Allow', 'GET, HEAD');
          send(res, 405, Buffer.from('405\n'), 'text/plain; charset=utf-8', false, true);
          return;
        }
        const url = req.url ?? '';
        const root = url === '/' || url.startsWith('/?');
        const keep = root && !o.httpClose && wantsKeepAlive(req);
        if (root) send(res, 200, PAGE_BYTES, PAGE_CONTENT_TYPE, keep, !head);
        else send(res, 404, NOT_FOUND_BODY, 'text/plain; charset=utf-8', false, !head);
      });
    },
  );
  server.on('connection', (socket: net.Socket) => {
    bump(counters, 'accepted');
    sockets.add(socket);
    socket.once('close', () => {
      bump(counters, 'closed');
      sockets.delete(socket);
    });
  });
  // A request node:http cannot parse: answer like our server (400/414/431, close).
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    bump(counters, 'errors: client');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(
      buildResponse({
        status,
        body: Buffer.from(`${status}\n`),
        contentType: 'text/plain; charset=utf-8',
        withBody: true,
        connection: 'close',
        date: httpDate(Date.now()),
      }),
    );
  });
  server.maxConnections = Number.MAX_SAFE_INTEGER;

  return {
    name: 'node-http',
    counters: () => ({ ...counters }),
    listen(host, port) {
      return listenNodeServer(server, { host, port, backlog: opts.backlog, sndbufBytes: opts.sndbufBytes, counters });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(deadline);
    },
  };
}
