// The request listener both HTTP servers (agent and controller) use: an async route handler whose unexpected errors
// become a 500, behind the per-connection pipelining bound, and the single-flight `/metrics` endpoint it routes to.
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { createMetricsEndpoint, type MetricsEndpoint } from './metrics-endpoint.ts';
import { limitPipelining } from './pipelining-limit.ts';

export type RouteHandler = (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void>;

export interface GuardedHandler {
  readonly onRequest: http.RequestListener;
  readonly metrics: MetricsEndpoint;
}

/** `metricsPrefix` names the server's own counters (`<prefix>_metrics_renders_total`, `<prefix>_http_connections_closed_total`). */
export function guardedHandler(handle: RouteHandler, options: { readonly registry: Registry; readonly metricsPrefix: string }): GuardedHandler {
  const { registry, metricsPrefix } = options;
  const metrics = createMetricsEndpoint({ registry, rendersMetricName: `${metricsPrefix}_metrics_renders_total` });
  const onRequest = limitPipelining(
    (request, response) => {
      void handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(`internal error: ${(error as Error).message}\n`);
      });
    },
    { registry, closedMetricName: `${metricsPrefix}_http_connections_closed_total` },
  );
  return { onRequest, metrics };
}
