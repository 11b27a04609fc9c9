/** The HTTP parse cost per request, for `iomodels micro`. */
import { RequestParser } from './parser.js';

/** A request as wrk or a browser sends it: GET / with a handful of headers. */
const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: iomodels-micro/1\r\nAccept: text/html,*/*;q=0.8\r\n' +
    'Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\n\r\n',
  'latin1',
);

export function httpMicroOps(): { name: string; fn: () => void }[] {
  // One keep-alive parser, as a connection has: each call parses one request.
  const parser = new RequestParser();
  let seen = 0;
  const onRequest = (): void => {
    seen++;
  };
  return [
    {
      name: `HTTP request parse (${REQUEST.length} B, 6 headers)`,
      fn: () => {
        const before = seen;
        const err = parser.push(REQUEST, onRequest);
        if (err !== null || seen !== before + 1) throw new Error(`the micro request did not parse: ${err?.reason ?? 'no request'}`);
      },
    },
  ];
}
