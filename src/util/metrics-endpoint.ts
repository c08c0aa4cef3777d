// Serves a prom-client Registry as `/metrics` with at most one rendering at a time: scrapes that arrive while a
// rendering runs share its result (single flight), so a burst of scrapes costs one rendering, not one per request.
// A rendering is sliced (metrics/exposition-renderer.ts) so that probing goes on while it runs.
// Counts its renderings, so a test (or an operator) can see that they stay bounded.
import type http from 'node:http';
import { Counter, type Registry } from 'prom-client';
import { createExpositionRenderer } from '../metrics/exposition-renderer.ts';

export interface MetricsEndpointOptions {
  readonly registry: Registry;
  /** Full name of the renderings counter, e.g. `kconmon_metrics_renders_total`. */
  readonly rendersMetricName: string;
}

export interface MetricsEndpoint {
  /** Answers one `/metrics` request with the current exposition. */
  serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void>;
}

export function createMetricsEndpoint({ registry, rendersMetricName }: MetricsEndpointOptions): MetricsEndpoint {
  const renders = new Counter({
    name: rendersMetricName,
    help: 'Renderings of the /metrics exposition; scrapes that arrive during a rendering share it',
    registers: [registry],
  });
  const renderer = createExpositionRenderer({ registry });
  let inFlight: Promise<string> | undefined;

  function render(): Promise<string> {
    if (inFlight === undefined) {
      renders.inc();
      inFlight = renderer.render().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  }

  return {
    async serve(_request, response) {
      const body = await render();
      // The client may have gone (or its connection been closed for pipelining) while the rendering ran.
      if (response.destroyed) return;
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(body);
    },
  };
}
