/**
 * The seed's page (WebServer's html_content) and the fixed header set both
 * HTTP servers send: ours (sans-IO) and the node:http reference.
 */

/** The seed's html_content, byte for byte (UTF-8; the Chinese text is 3 bytes a character). */
export const PAGE_HTML = `
<html>
<head><title></title></head>
<body>
欢迎访问马哥教育
</body>
</html>
`;

export const PAGE_BYTES: Buffer = Buffer.from(PAGE_HTML, 'utf8');
export const PAGE_CONTENT_TYPE = 'text/html; charset=utf-8';
export const SERVER_NAME = 'iomodels';
export const NOT_FOUND_BODY: Buffer = Buffer.from('Not Found\n', 'utf8');

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
};

/** IMF-fixdate, what the Date header carries. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export interface ResponseSpec {
  status: number;
  body: Buffer;
  contentType: string;
  /** Send the body (false for HEAD; Content-Length still the body's). */
  withBody: boolean;
  /** Connection header: "close", "keep-alive" or absent (HTTP/1.1 default). */
  connection: 'close' | 'keep-alive';
  date: string;
  extraHeaders?: string;
}

export function buildResponse(r: ResponseSpec): Buffer {
  const head =
    `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Unknown'}\r\n` +
    `Server: ${SERVER_NAME}\r\n` +
    `Date: ${r.date}\r\n` +
    `Content-Type: ${r.contentType}\r\n` +
    `Content-Length: ${r.body.length}\r\n` +
    `Connection: ${r.connection}\r\n` +
    (r.extraHeaders ?? '') +
    '\r\n';
  const h = Buffer.from(head, 'latin1');
  return r.withBody ? Buffer.concat([h, r.body]) : h;
}
