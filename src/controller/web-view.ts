// The live web view at `/`: plain HTML, CSS and JavaScript from web/ (src/web-files.ts), read once at start-up and
// served from memory with their ETags — nothing external is loaded (clusters are often offline), and a strict Content
// Security Policy allows only these files and the controller's own API. The page polls /api/v1/matrix.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';

/** URL path → file in web/ and its content type. */
const FILES: ReadonlyMap<string, { readonly file: string; readonly type: string }> = new Map([
  ['/', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['/web/app.js', { file: 'app.js', type: 'text/javascript; charset=utf-8' }],
  ['/web/style.css', { file: 'style.css', type: 'text/css; charset=utf-8' }],
]);

const SECURITY_HEADERS: http.OutgoingHttpHeaders = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface WebView {
  /** True if `pathname` is one of the view's files. */
  has(pathname: string): boolean;
  serve(pathname: string, request: http.IncomingMessage, response: http.ServerResponse): void;
}

/** Reads the view's files; a missing one makes every path of the view answer 503 naming it (the API still works). */
export async function loadWebView(directory: string): Promise<{ view: WebView; missing?: string }> {
  const loaded = new Map<string, { body: Buffer; type: string; etag: string }>();
  let missing: string | undefined;
  for (const [pathname, { file, type }] of FILES) {
    try {
      const body = await readFile(join(directory, file));
      loaded.set(pathname, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
    } catch (error) {
      missing ??= `${join(directory, file)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    }
  }
  const view: WebView = {
    has: (pathname) => FILES.has(pathname),
    serve(pathname, request, response) {
      const entry = loaded.get(pathname);
      if (missing !== undefined || !entry) {
        response.writeHead(503, { 'content-type': 'text/plain' });
        response.end(`the web view's files are missing from this installation (${missing})\n`);
        return;
      }
      const headers = { ...SECURITY_HEADERS, etag: entry.etag };
      if (request.headers['if-none-match'] === entry.etag) {
        response.writeHead(304, headers);
        response.end();
        return;
      }
      response.writeHead(200, { ...headers, 'content-type': entry.type, 'content-length': entry.body.length });
      response.end(request.method === 'HEAD' ? undefined : entry.body);
    },
  };
  return missing === undefined ? { view } : { view, missing };
}
