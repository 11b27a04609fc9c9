/** Stand-in servers on 127.0.0.1 for the drivers' tests, closed with their connections when the tests are done. */
import * as http from 'node:http';
import * as net from 'node:net';
import { after } from 'node:test';

export interface TestServers {
  /** Listen on a free port of 127.0.0.1; resolves with the port. A plain function, so callers may take it out of the object. */
  readonly listen: (s: net.Server) => Promise<number>;
}

/**
 * Servers closed in an after() hook of the suite (or file) that calls
 * this, with every connection they still hold: a driver's or a keep-alive
 * server's open socket would otherwise keep the test process alive.
 */
export function testServers(): TestServers {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  after(() => {
    for (const s of servers) {
      s.close();
      if (s instanceof http.Server) s.closeAllConnections();
    }
    for (const s of sockets) s.destroy();
  });
  return {
    listen: async (s) => {
      servers.push(s);
      s.on('connection', (c: net.Socket) => {
        sockets.add(c);
        c.once('close', () => sockets.delete(c));
      });
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      return (s.address() as net.AddressInfo).port;
    },
  };
}

/** Echoes every byte back; socket errors are ignored (the drivers reset their connections at the end of the window). */
export function echoServer(options: net.ServerOpts = {}): net.Server {
  return net.createServer(options, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
}

/** A raw server that answers every request-looking chunk with `reply` (and closes after it when asked). */
export function rawServer(reply: string, closeAfter = false): net.Server {
  return net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', () => {
      if (closeAfter) s.end(reply, 'latin1');
      else s.write(reply, 'latin1');
    });
  });
}
