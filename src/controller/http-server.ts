// The controller's HTTP endpoints: the agents' watch stream (`/v1/watch`), the original's `GET /agents` and
// `GET /agent/<pod>`, `/metrics`, `/healthz` and `/readyz` (ready once discovery has synced).
import http from 'node:http';
import { listen, type ListeningServer } from '../util/http-listen.ts';
import { createMetricsEndpoint } from '../util/metrics-endpoint.ts';
import { limitPipelining } from '../util/pipelining-limit.ts';
import type { Registry } from 'prom-client';
import type { AgentHub } from './agent-hub.ts';
import { STREAM_CONTENT_TYPE, WATCH_PATH } from '../protocol/agent-stream.ts';

export interface ControllerHttpServerOptions {
  readonly address: string;
  readonly port: number;
  readonly hub: AgentHub;
  readonly registry: Registry;
  /** Prefix of the server's own metrics (`<prefix>_metrics_renders_total`, `<prefix>_http_connections_closed_total`). */
  readonly metricsPrefix: string;
  readonly ready: () => boolean;
  readonly onSubscribersChanged: (count: number) => void;
}

export type ControllerHttpServer = ListeningServer;

/** Kubernetes object names: DNS subdomain, at most 253 characters. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export async function startControllerHttpServer(options: ControllerHttpServerOptions): Promise<ControllerHttpServer> {
  const { hub } = options;
  // /metrics renders once at a time and a connection cannot queue unanswered requests without bound (as the agent's).
  const metricsEndpoint = createMetricsEndpoint({ registry: options.registry, rendersMetricName: `${options.metricsPrefix}_metrics_renders_total` });
  const onRequest = limitPipelining(
    (request, response) => {
      void handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`internal error: ${(error as Error).message}\n`);
      });
    },
    { registry: options.registry, closedMetricName: `${options.metricsPrefix}_http_connections_closed_total` },
  );
  const server = http.createServer({ noDelay: true }, onRequest);

  function text(response: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
    response.writeHead(status, { 'content-type': 'text/plain', ...headers });
    response.end(`${body}\n`);
  }

  function json(response: http.ServerResponse, body: unknown): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body)}\n`);
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(response, 405, 'method not allowed', { allow: 'GET, HEAD' });
    const url = new URL(request.url ?? '/', 'http://controller');
    if (url.pathname === WATCH_PATH) return watch(url, request, response);
    if (url.pathname === '/agents') {
      return json(response, hub.entries().filter((entry) => entry.ready).map(({ name, nodeName, ip, zone }) => ({ name, nodeName, ip, zone })));
    }
    if (url.pathname.startsWith('/agent/')) {
      const name = decodeURIComponent(url.pathname.slice('/agent/'.length));
      const entry = hub.entries().find((candidate) => candidate.name === name);
      return entry ? json(response, entry) : text(response, 404, `no agent named "${name}"`);
    }
    if (url.pathname === '/metrics') return metricsEndpoint.serve(request, response);
    if (url.pathname === '/healthz') return text(response, 200, 'ok');
    if (url.pathname === '/readyz') return options.ready() ? text(response, 200, 'ok') : text(response, 503, 'discovery not synced yet');
    return text(response, 404, `not found: try ${WATCH_PATH}, /agents, /agent/<pod>, /metrics, /healthz, /readyz`);
  }

  function watch(url: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
    const nodeName = url.searchParams.get('node') ?? '';
    const podName = url.searchParams.get('pod') ?? undefined;
    if (!OBJECT_NAME.test(nodeName)) return text(response, 400, 'query parameter "node" must be the agent\'s node name (a Kubernetes object name)');
    if (podName !== undefined && !OBJECT_NAME.test(podName)) return text(response, 400, 'query parameter "pod" must be a Kubernetes object name');
    if (!options.ready()) return text(response, 503, 'discovery not synced yet', { 'retry-after': '1' });
    response.writeHead(200, { 'content-type': STREAM_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.socket?.setKeepAlive(true, 10_000);
    const unsubscribe = hub.subscribe({ nodeName, podName, connectedAt: Date.now() }, response);
    options.onSubscribersChanged(hub.subscriberCount());
    const done = () => {
      unsubscribe();
      options.onSubscribersChanged(hub.subscriberCount());
    };
    request.socket.once('close', done);
  }

  return listen(server, options.address, options.port);
}
