// Child process of the reporting benchmark (bench/controller/reporting.ts): a share of the simulated agents, each
// reporting its probe outcomes to the controller over its own report stream (harness/reporting-agents.ts) at the
// agents' default rates. Driven by the parent over IPC:
//   → { type: 'start', urls, agents, probeIntervalMs }   ← { type: 'started' }
//   → { type: 'fault', node }  (node: black-holed from now on; null heals)   ← { type: 'faulted' }
//   → { type: 'stats' }        ← { type: 'stats', queued, connected }
//   → { type: 'close' }        (exits)
import { createLogger } from '../../src/log.ts';
import { startReportingAgents, type ReportingAgents, type SimulatedAgent } from '../../harness/reporting-agents.ts';

export interface StartRequest {
  readonly type: 'start';
  readonly urls: readonly string[];
  readonly agents: readonly SimulatedAgent[];
  readonly probeIntervalMs: number;
}

type Request = StartRequest | { readonly type: 'fault'; readonly node: string | null } | { readonly type: 'stats' } | { readonly type: 'close' };

const send = (message: object) => process.send?.(message);
let fleet: ReportingAgents | undefined;
let faulty: string | null = null;

process.on('message', (request: Request) => {
  switch (request.type) {
    case 'start':
      fleet = startReportingAgents({
        urls: request.urls,
        agents: request.agents,
        probeIntervalMs: request.probeIntervalMs,
        outcome: (source, destination, kind) => kind === 'dns' || faulty === null || (source !== faulty && destination !== faulty),
        log: createLogger('warn'),
      });
      send({ type: 'started' });
      break;
    case 'fault':
      faulty = request.node;
      send({ type: 'faulted' });
      break;
    case 'stats':
      send({ type: 'stats', queued: fleet?.queued() ?? 0, connected: fleet?.connected() ?? 0 });
      break;
    case 'close':
      void (fleet?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
  }
});
send({ type: 'ready' });
