// The controller's HTTP(S) endpoints: the agents' watch stream (`/v1/watch`), the original's `GET /agents` and
// `GET /agent/<pod>`, `/metrics`, `/healthz` and `/readyz` (ready once discovery has synced), the verdicts
// (`/api/v1/status`, `/api/v1/matrix`) and the web view at `/`. With a token, the watch and the agent list require
// `Authorization: Bearer <token>` (401 otherwise; the verdicts and the view, like /metrics, do not); streams past the
// cap get 503.
import http from 'node:http';
import https from 'node:https';
import { listen, type ListeningServer } from '../util/http-listen.ts';
import { guardedHandler } from '../util/guarded-handler.ts';
import type { Registry } from 'prom-client';
import type { AgentHub } from './agent-hub.ts';
import { HEARTBEAT_HEADER, STREAM_CONTENT_TYPE, WATCH_PATH } from '../protocol/agent-stream.ts';
import { CHALLENGE_HEADER, controllerProof, isChallenge, PROOF_HEADER } from '../protocol/controller-proof.ts';
import { REPORTS_PATH } from '../protocol/report-stream.ts';
import type { ReportRejection } from '../metrics/verdict-metrics.ts';
import type { ReportIntake } from './report-intake.ts';
import { STATUS_PATH } from './verdict-status.ts';
import { MATRIX_PATH, parseMatrixQuery, type MatrixDocument, type MatrixQuery } from './verdict-matrix.ts';
import type { WebView } from './web-view.ts';

/** Why a watch request was refused (the label of the rejection counter). */
export type WatchRejection = 'unauthorized' | 'over_capacity' | 'bad_request' | 'not_synced';

export interface ControllerHttpServerOptions {
  readonly address: string;
  readonly port: number;
  readonly hub: AgentHub;
  readonly registry: Registry;
  /** Prefix of the server's own metrics (`<prefix>_metrics_renders_total`, `<prefix>_http_connections_closed_total`). */
  readonly metricsPrefix: string;
  readonly ready: () => boolean;
  /** Shutting down: /readyz answers 503 (the Service stops routing agents here) while streams are still served. */
  readonly draining?: () => boolean;
  readonly onSubscribersChanged: (count: number) => void;
  /** Checks a presented bearer token; absent: no authentication. */
  readonly authenticate?: (token: string) => Promise<boolean>;
  /** The current token, to prove it to agents that send a challenge (with authenticate). */
  readonly currentToken?: () => Promise<string>;
  /** Streams served at once; one more gets 503. */
  readonly maxAgentStreams: number;
  /** Announced to agents in the watch response (HEARTBEAT_HEADER). */
  readonly heartbeatIntervalMs: number;
  /** Serve HTTPS with this certificate and key. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly onWatchRejected?: (reason: WatchRejection) => void;
  /** The agents' report streams (POST /v1/reports); absent: 404. */
  readonly reports?: ReportIntake;
  readonly onReportRejected?: (reason: ReportRejection) => void;
  /** `GET /api/v1/status`: the verdicts document. */
  readonly status?: () => unknown;
  /** `GET /api/v1/matrix`: its version (the ETag, cheap) and the document for a query (or a 404 line). */
  readonly matrix?: {
    readonly version: () => string;
    readonly build: (query: MatrixQuery) => MatrixDocument | { readonly notFound: string };
  };
  /** The web view's files (`/`, `/web/*`). */
  readonly webView?: WebView;
}

export type ControllerHttpServer = ListeningServer;

/** Kubernetes object names: DNS subdomain, at most 253 characters. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export async function startControllerHttpServer(options: ControllerHttpServerOptions): Promise<ControllerHttpServer> {
  const { hub } = options;
  // /metrics renders once at a time and a connection cannot queue unanswered requests without bound.
  const { onRequest, metrics: metricsEndpoint } = guardedHandler(handle, { registry: options.registry, metricsPrefix: options.metricsPrefix });
  // No deadline for a whole request: report streams are request bodies that last as long as the agent (headers still
  // have Node's headersTimeout).
  const server = options.tls
    ? https.createServer({ noDelay: true, requestTimeout: 0, cert: options.tls.cert, key: options.tls.key }, onRequest)
    : http.createServer({ noDelay: true, requestTimeout: 0 }, onRequest);
  /** Streams accepted and not yet closed (counted before the snapshot is written, so the cap holds under a burst). */
  let openStreams = 0;

  function text(response: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(`${body}\n`);
  }

  function json(response: http.ServerResponse, body: unknown): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://controller');
    } catch {
      return text(response, 400, 'malformed request URL');
    }
    if (url.pathname === REPORTS_PATH) {
      if (request.method !== 'POST') return text(response, 405, 'method not allowed', { allow: 'POST' });
      if (!(await authorized(request))) {
        options.onReportRejected?.('unauthorized');
        return text(response, 401, 'a valid "Authorization: Bearer <token>" header is required', { 'www-authenticate': 'Bearer realm="kconmon"' });
      }
      return reports(url, request, response);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
    const listsAgents = url.pathname === WATCH_PATH || url.pathname === '/agents' || url.pathname.startsWith('/agent/');
    if (listsAgents && !(await authorized(request))) {
      if (url.pathname === WATCH_PATH) options.onWatchRejected?.('unauthorized');
      return text(response, 401, 'a valid "Authorization: Bearer <token>" header is required', { 'www-authenticate': 'Bearer realm="kconmon"' });
    }
    if (url.pathname === WATCH_PATH) return watch(url, request, response);
    if (url.pathname === '/agents') {
      return json(
        response,
        hub
          .entries()
          .filter((entry) => entry.ready)
          .map(({ name, nodeName, ip, zone }) => ({ name, nodeName, ip, zone })),
      );
    }
    if (url.pathname.startsWith('/agent/')) {
      let name: string;
      try {
        name = decodeURIComponent(url.pathname.slice('/agent/'.length));
      } catch {
        return text(response, 400, 'the agent name in /agent/<pod> is not a valid %-encoded string');
      }
      const entry = hub.entries().find((candidate) => candidate.name === name);
      return entry ? json(response, entry) : text(response, 404, `no agent named ${JSON.stringify(name.slice(0, 253))}`);
    }
    if (url.pathname === STATUS_PATH && options.status) return json(response, options.status());
    if (url.pathname === MATRIX_PATH && options.matrix) return matrix(url, request, response, options.matrix);
    if (options.webView?.has(url.pathname)) return options.webView.serve(url.pathname, request, response);
    if (url.pathname === '/metrics') return metricsEndpoint.serve(request, response);
    if (url.pathname === '/healthz') return text(response, 200, 'ok');
    if (url.pathname === '/readyz') {
      if (options.draining?.()) return text(response, 503, 'shutting down');
      return options.ready() ? text(response, 200, 'ok') : text(response, 503, 'discovery not synced yet');
    }
    return text(
      response,
      404,
      `not found: try /, ${WATCH_PATH}, ${REPORTS_PATH}, ${STATUS_PATH}, ${MATRIX_PATH}, /agents, /agent/<pod>, /metrics, /healthz, /readyz`,
    );
  }

  /** The web view's data: a bad query is a 400 line; an unchanged version a 304 (nothing computed). */
  function matrix(url: URL, request: http.IncomingMessage, response: http.ServerResponse, source: NonNullable<ControllerHttpServerOptions['matrix']>): void {
    const query = parseMatrixQuery(url.searchParams);
    if ('error' in query) {
      text(response, 400, query.error);
      return;
    }
    const etag = `"${source.version()}"`;
    const headers = { etag, 'cache-control': 'no-cache' };
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    const document = source.build(query);
    if ('notFound' in document) {
      text(response, 404, document.notFound);
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': 'application/json' });
    response.end(`${JSON.stringify(document)}\n`);
  }

  /** True without a token configured, else only with the right bearer token. */
  async function authorized(request: http.IncomingMessage): Promise<boolean> {
    if (!options.authenticate) return true;
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '');
    return match !== null && (await options.authenticate(match[1]!));
  }

  async function watch(url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const nodeName = url.searchParams.get('node') ?? '';
    const podName = url.searchParams.get('pod') ?? undefined;
    const reject = (reason: WatchRejection, status: number, body: string, headers: http.OutgoingHttpHeaders = {}) => {
      options.onWatchRejected?.(reason);
      text(response, status, body, headers);
    };
    if (!OBJECT_NAME.test(nodeName)) return reject('bad_request', 400, 'query parameter "node" must be the agent\'s node name (a Kubernetes object name)');
    if (podName !== undefined && !OBJECT_NAME.test(podName)) return reject('bad_request', 400, 'query parameter "pod" must be a Kubernetes object name');
    if (!options.ready()) return reject('not_synced', 503, 'discovery not synced yet', { 'retry-after': '1' });
    const challenge = request.headers[CHALLENGE_HEADER];
    const proof = options.currentToken && isChallenge(challenge) ? { [PROOF_HEADER]: controllerProof(await options.currentToken(), challenge) } : {};
    // From here on nothing awaits: the count, the subscription and the close handler are set up together.
    if (request.socket.destroyed) return; // the agent left while its token was checked
    if (openStreams >= options.maxAgentStreams) {
      return reject('over_capacity', 503, `this controller serves at most ${options.maxAgentStreams} agent streams`, { 'retry-after': '5' });
    }
    openStreams++;
    response.writeHead(200, streamHeaders(proof));
    response.socket?.setKeepAlive(true, 10_000);
    const unsubscribe = hub.subscribe({ nodeName, podName, connectedAt: Date.now() }, response);
    options.onSubscribersChanged(hub.subscriberCount());
    const done = () => {
      openStreams--;
      unsubscribe();
      options.onSubscribersChanged(hub.subscriberCount());
    };
    request.socket.once('close', done);
  }

  /** The response headers of every agent stream (watch and reports): NDJSON, never cached, the heartbeat, the proof. */
  function streamHeaders(proof: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
    return {
      'content-type': STREAM_CONTENT_TYPE,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      [HEARTBEAT_HEADER]: String(options.heartbeatIntervalMs),
      ...proof,
    };
  }

  /** An agent's report stream: answered at once (with the token's proof), then read until the agent ends it. */
  async function reports(url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const nodeName = url.searchParams.get('node') ?? '';
    const podName = url.searchParams.get('pod') ?? undefined;
    const reject = (body: string) => {
      options.onReportRejected?.('bad_request');
      request.resume();
      text(response, 400, body, { connection: 'close' });
    };
    if (!options.reports) return text(response, 404, 'this controller does not take reports');
    if (!OBJECT_NAME.test(nodeName)) return reject('query parameter "node" must be the agent\'s node name (a Kubernetes object name)');
    if (podName !== undefined && !OBJECT_NAME.test(podName)) return reject('query parameter "pod" must be a Kubernetes object name');
    const challenge = request.headers[CHALLENGE_HEADER];
    const proof = options.currentToken && isChallenge(challenge) ? { [PROOF_HEADER]: controllerProof(await options.currentToken(), challenge) } : {};
    if (request.socket.destroyed) return;
    // As many report streams as watch streams: one per agent and replica.
    if (options.reports.streams() >= options.maxAgentStreams) {
      options.onReportRejected?.('over_capacity');
      request.resume();
      return text(response, 503, `this controller takes at most ${options.maxAgentStreams} report streams`, { 'retry-after': '5', connection: 'close' });
    }
    response.writeHead(200, streamHeaders(proof));
    response.flushHeaders();
    response.socket?.setKeepAlive(true, 10_000);
    options.reports.accept({ nodeName, podName }, request, response);
  }

  return listen(server, options.address, options.port);
}
