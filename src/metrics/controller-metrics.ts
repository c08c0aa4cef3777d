// The controller's Prometheus metrics: agents known and connected, changes pushed, informer restarts, and its own
// process health.
import { Counter, Gauge, collectDefaultMetrics, type Registry } from 'prom-client';

export interface ControllerMetrics {
  setAgents(ready: number, notReady: number): void;
  setConnected(count: number): void;
  setVersion(version: number): void;
  setSynced(synced: boolean): void;
  changePushed(): void;
  informerRestarted(resource: string): void;
  slowAgentDropped(): void;
  /** A watch request refused: unauthorized, over_capacity, bad_request, not_synced. */
  watchRejected(reason: string): void;
}

export function createControllerMetrics(registry: Registry, prefix: string, processMetrics = true): ControllerMetrics {
  const registers = [registry];
  const name = (suffix: string) => `${prefix}_controller_${suffix}`;
  const agents = new Gauge({
    name: name('agents'),
    help: 'Agent pods known to the controller, by state (ready ones are probed)',
    labelNames: ['state'] as const,
    registers,
  });
  const connectedHelp = 'Agents holding a watch stream to this controller (authenticated ones, when a token is set)';
  const connected = new Gauge({ name: name('connected_agents'), help: connectedHelp, registers });
  const version = new Gauge({ name: name('version'), help: 'Version of the current agent set (increments on every change)', registers });
  const synced = new Gauge({ name: name('synced'), help: '1 once discovery has a complete view of the agents', registers });
  const changes = new Counter({ name: name('changes_total'), help: 'Changes pushed to connected agents', registers });
  const restarts = new Counter({
    name: name('informer_restarts_total'),
    help: 'Informer restarts after API errors, by resource',
    labelNames: ['resource'] as const,
    registers,
  });
  const dropped = new Counter({ name: name('slow_agents_dropped_total'), help: 'Agent streams closed because the agent did not read its changes', registers });
  const rejectedHelp = 'Watch requests refused, by reason (unauthorized, over_capacity, bad_request, not_synced)';
  const rejected = new Counter({ name: name('watch_rejected_total'), help: rejectedHelp, labelNames: ['reason'] as const, registers });
  for (const reason of ['unauthorized', 'over_capacity', 'bad_request', 'not_synced']) rejected.inc({ reason }, 0);
  if (processMetrics) collectDefaultMetrics({ register: registry });
  synced.set(0);
  return {
    setAgents(ready, notReady) {
      agents.set({ state: 'ready' }, ready);
      agents.set({ state: 'not_ready' }, notReady);
    },
    setConnected: (count) => connected.set(count),
    setVersion: (value) => version.set(value),
    setSynced: (value) => synced.set(value ? 1 : 0),
    changePushed: () => changes.inc(),
    informerRestarted: (resource) => restarts.inc({ resource }),
    slowAgentDropped: () => dropped.inc(),
    watchRejected: (reason) => rejected.inc({ reason }),
  };
}
