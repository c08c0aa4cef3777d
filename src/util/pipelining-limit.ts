// Bounds how many requests one HTTP connection may have unanswered at once. A client that pipelines requests without
// reading the answers would otherwise make the server start work and queue a response for every one of them; past the
// bound its connection is closed. Prometheus, peers' TCP tests and agents' watch streams never have more than one
// request in flight per connection.
import type http from 'node:http';
import type { Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';

/** Unanswered requests one connection may have; one more closes it. */
export const MAX_UNANSWERED_REQUESTS = 4;

export interface PipeliningLimitOptions {
  readonly registry: Registry;
  /** Full name of the counter of connections closed for exceeding the bound, e.g. `kconmon_http_connections_closed_total`. */
  readonly closedMetricName: string;
  readonly maxUnanswered?: number;
}

/** Wraps a request handler so that it only ever sees requests within the bound of their connection. */
export function limitPipelining(handler: http.RequestListener, options: PipeliningLimitOptions): http.RequestListener {
  const maxUnanswered = options.maxUnanswered ?? MAX_UNANSWERED_REQUESTS;
  const closed = new Counter({
    name: options.closedMetricName,
    help: `HTTP connections closed because they had more than ${maxUnanswered} requests unanswered (pipelining without reading)`,
    registers: [options.registry],
  });
  const unanswered = new WeakMap<Socket, number>();
  return (request, response) => {
    const socket = request.socket;
    // Requests parsed from the same chunk after the connection was closed: nothing to do.
    if (socket.destroyed) return;
    const count = (unanswered.get(socket) ?? 0) + 1;
    if (count > maxUnanswered) {
      socket.destroy();
      closed.inc();
      return;
    }
    unanswered.set(socket, count);
    response.once('close', () => unanswered.set(socket, (unanswered.get(socket) ?? 1) - 1));
    handler(request, response);
  };
}
