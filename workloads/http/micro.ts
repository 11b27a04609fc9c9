/** The HTTP parse costs per request (server side) and per response (the load driver's), for `iomodels micro`. */
import { httpClient } from './client.js';
import { buildResponse, httpDate, PAGE_BYTES, PAGE_CONTENT_TYPE } from './page.js';
import { RequestParser } from './parser.js';
import { ResponseReader, type ResponseInfo } from './response-reader.js';

/** A request as wrk or a browser sends it: GET / with a handful of headers. */
const REQUEST = Buffer.from(
  'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: iomodels-micro/1\r\nAccept: text/html,*/*;q=0.8\r\n' +
    'Accept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\n\r\n',
  'latin1',
);

/** Our page as our servers send it: what the driver reads per request at full speed. */
const RESPONSE = buildResponse({ status: 200, body: PAGE_BYTES, contentType: PAGE_CONTENT_TYPE, withBody: true, connection: 'keep-alive', date: httpDate(0) });

export function httpMicroOps(): { name: string; fn: () => void }[] {
  // One keep-alive parser, as a connection has: each call parses one request.
  const parser = new RequestParser();
  let seen = 0;
  const onRequest = (): void => {
    seen++;
  };
  // The driver's reader with its page check, as every connection of ours has one.
  const reader = new ResponseReader(httpClient(undefined, '127.0.0.1', 80).check);
  let verified = 0;
  const onResponse = (r: ResponseInfo): void => {
    if (r.error === null) verified++;
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
    {
      name: `HTTP response read and verify (${RESPONSE.length} B, our page)`,
      fn: () => {
        const before = verified;
        const err = reader.push(RESPONSE, onResponse);
        if (err !== null || verified !== before + 1) throw new Error(`the micro response did not verify: ${err ?? 'no verified response'}`);
      },
    },
  ];
}
