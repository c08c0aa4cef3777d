// The agent's HTTP endpoints on the shared port: `/readiness` (what peers' TCP tests hit), `/healthz`, `/readyz`
// (the pod's readiness: ready once it has a peer list), `/metrics` and `/results` (recent results as JSON). Anything else is a 404; methods other than GET/HEAD a 405. A scrape is
// rendered at most once at a time and a connection cannot queue more than a few unanswered requests, so scrapes
// cannot exhaust memory or starve the echo peers measure.
import http from 'node:http';
import { listen, type ListeningServer } from '../util/http-listen.ts';
import { guardedHandler } from '../util/guarded-handler.ts';
import type { Registry } from 'prom-client';
import type { AgentResults } from './results.ts';

export interface AgentHttpServerOptions {
  readonly address: string;
  readonly port: number;
  readonly registry: Registry;
  /** Prefix of the server's own metrics (`<prefix>_metrics_renders_total`, `<prefix>_http_connections_closed_total`). */
  readonly metricsPrefix: string;
  /** `/results`: identity, peer count and recent results. */
  readonly results: () => AgentResults;
  /** False once the agent is stopping for good: `/healthz` then fails, `/readiness` keeps answering peers. */
  readonly healthy: () => boolean;
  /**
   * Why the agent should not be probed yet (`/readyz` answers 503 with it), or undefined once it should: until its
   * first peer list it knows no agent, so its echo would refuse every peer's probe and they would record false loss.
   */
  readonly notReadyReason: () => string | undefined;
}

export type AgentHttpServer = ListeningServer;

export async function startAgentHttpServer(options: AgentHttpServerOptions): Promise<AgentHttpServer> {
  // /metrics renders once at a time and a connection cannot queue unanswered requests without bound.
  const { onRequest, metrics: metricsEndpoint } = guardedHandler(handle, { registry: options.registry, metricsPrefix: options.metricsPrefix });
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 5000, requestTimeout: 10_000, headersTimeout: 5000 }, onRequest);

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('method not allowed\n');
      return;
    }
    const path = (request.url ?? '/').split('?', 1)[0];
    switch (path) {
      case '/readiness':
        // Peers measure a fresh connection per test: close it after the answer, like the original.
        response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3', connection: 'close' });
        response.end('ok\n');
        return;
      case '/healthz': {
        const healthy = options.healthy();
        response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' });
        response.end(healthy ? 'ok\n' : 'stopping\n');
        return;
      }
      case '/readyz': {
        const reason = options.notReadyReason();
        response.writeHead(reason === undefined ? 200 : 503, { 'content-type': 'text/plain' });
        response.end(`${reason ?? 'ok'}\n`);
        return;
      }
      case '/metrics':
        return metricsEndpoint.serve(request, response);
      case '/results': {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`${JSON.stringify(options.results(), null, 2)}\n`);
        return;
      }
      default:
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found: try /metrics, /readiness, /healthz, /readyz, /results\n');
    }
  }

  return listen(server, options.address, options.port);
}
