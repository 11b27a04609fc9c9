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
import type { HttpAnswer, ProtocolSpec } from '../core/protocol.js';
import { listenNodeServer } from './node-sndbuf.js';
import { loadHttpResponder } from './protocol-loader.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../core/strategy.js';

const CLOSE_GRACE_MS = 500;

function wantsKeepAlive(req: http.IncomingMessage): boolean {
  const tokens = (req.headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim());
  if (tokens.includes('close')) return false;
  return req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 ? true : tokens.includes('keep-alive');
}

function send(res: http.ServerResponse, a: HttpAnswer): void {
  res.writeHead(a.status, { ...a.headers });
  res.end(a.body.length > 0 ? a.body : undefined);
}

/**
 * The workload's answers come from its HTTP responder (the same responses
 * as its own server); node:http only reads the requests.
 */
export async function createNodeHttpServer(spec: ProtocolSpec, opts: StrategyOptions): Promise<StrategyServer> {
  const responder = await loadHttpResponder(spec);
  const o = responder.limits;
  const counters: ServerCounters = {};
  const sockets = new Set<net.Socket>();

  const server = http.createServer(
    {
      noDelay: true,
      maxHeaderSize: o.maxHeaderBytes,
      headersTimeout: o.headerTimeoutMs,
      keepAliveTimeout: o.idleTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > o.maxBody) {
        req.resume();
        res.socket?.end(responder.refusal(413));
        return;
      }
      // Read and discard the body, then answer, as our own server does.
      req.resume();
      req.once('end', () => {
        send(res, responder.respond(req.method ?? '', req.url ?? '', wantsKeepAlive(req)));
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
    socket.end(responder.refusal(status));
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
