// The controller benchmark's command line.
import { parseArgs } from 'node:util';
import { HelpRequested } from '../common/command-line.ts';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ObjectShape } from './kube-objects.ts';

export interface BenchOptions {
  /** Cluster sizes, ascending: N Nodes, N agent Pods and N connected agents each. */
  readonly sizes: readonly number[];
  readonly changes: number;
  readonly spacingSeconds: number;
  /** The fixed steady window (idle part, then the changes), the same at every N. */
  readonly windowSeconds: number;
  readonly objects: ObjectShape;
  readonly setupConcurrency: number;
  /** 0: all agents connect at once (the herd after a controller restart). */
  readonly connectConcurrency: number;
  /** 'dist': a fresh tsc build (what bin/kconmon.js runs); 'src': src/cli.ts through type stripping; or a CLI file. */
  readonly controllerEntry: string;
  readonly controllerFlags: readonly string[];
  /** Pods created and deleted per second in another namespace during the idle part of the window (0: none). */
  readonly churn: number;
  readonly keepLogs: boolean;
  readonly docs: string | undefined;
}

/** Seconds between the last change and the end of the window, for it to reach every agent. */
export const SETTLE_SECONDS = 4;
const MIN_IDLE_SECONDS = 5;

export const USAGE = `usage: node bench/controller/run.ts [options]
  --nodes 500,5000          cluster sizes N (ascending): N Nodes, N agent Pods, N connected agents (1..20000)
  --changes 10              timed changes per size (alternately a Node zone-label patch and a Pod Ready flip)
  --spacing 2               seconds between changes
  --window 60               steady window per size, seconds: idle first, then the changes (API requests are counted
                            over it, so it must be the same at every size)
  --objects realistic       realistic: Node/Pod objects the size a kubelet/DaemonSet makes; minimal: only the fields read
  --setup-concurrency 32    API calls in flight while creating the objects
  --connect-concurrency 0   agents connecting at once (0: all N at once, like the reconnect after a controller restart)
  --controller-entry dist    dist: a fresh tsc build of src/ (what bin/kconmon.js runs); src: node src/cli.ts (type
                            stripping); or the path of another kconmon CLI file (an experimental copy of the sources)
  --controller-flags=FLAGS  Node flags for the controller; default --max-semi-space-size=1, as the image's
                            NODE_OPTIONS sets it
  --churn 0                 pods created + deleted per second in another namespace during the idle part of the window
                            (a busy cluster: it moves the apiserver's pod watch cache on; try --window 180 --churn 20)
  --keep-logs               keep the work directory (audit log, controller and agents logs)
  --docs docs/benchmarks.md markdown file whose "## Controller" section is (re)written
  --no-docs                 print only
`;

function int(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${flag} must be an integer in ${min}..${max} (got "${text}")`);
  return value;
}

function num(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${flag} must be a number in ${min}..${max} (got "${text}")`);
  return value;
}

export function parseOptions(argv: readonly string[], repo: string): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      nodes: { type: 'string', default: '500,5000' },
      changes: { type: 'string', default: '10' },
      spacing: { type: 'string', default: '2' },
      window: { type: 'string', default: '60' },
      objects: { type: 'string', default: 'realistic' },
      'setup-concurrency': { type: 'string', default: '32' },
      'connect-concurrency': { type: 'string', default: '0' },
      'controller-entry': { type: 'string', default: 'dist' },
      'controller-flags': { type: 'string', default: '--max-semi-space-size=1' },
      churn: { type: 'string', default: '0' },
      'keep-logs': { type: 'boolean', default: false },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) throw new HelpRequested();
  const sizes = values.nodes.split(',').map((text) => int(text.trim(), '--nodes', 1, 20_000));
  if (sizes.some((size, index) => index > 0 && size <= sizes[index - 1]!)) throw new Error('--nodes must be ascending (the cluster only grows)');
  const changes = int(values.changes, '--changes', 1, 100);
  const spacingSeconds = num(values.spacing, '--spacing', 0.5, 30);
  const windowSeconds = num(values.window, '--window', 10, 1800);
  const idle = windowSeconds - changes * spacingSeconds - SETTLE_SECONDS;
  if (idle < MIN_IDLE_SECONDS) {
    throw new Error(
      `--window ${windowSeconds} is too short for ${changes} changes ${spacingSeconds} s apart: it needs ≥ ${changes * spacingSeconds + SETTLE_SECONDS + MIN_IDLE_SECONDS} s`,
    );
  }
  if (values.objects !== 'realistic' && values.objects !== 'minimal') throw new Error('--objects must be realistic or minimal');
  const entry = values['controller-entry'];
  const controllerEntry = entry === 'dist' || entry === 'src' ? entry : resolve(repo, entry);
  if (controllerEntry !== 'dist' && controllerEntry !== 'src' && !existsSync(controllerEntry))
    throw new Error(`--controller-entry ${controllerEntry} does not exist`);
  return {
    sizes,
    changes,
    spacingSeconds,
    windowSeconds,
    objects: values.objects,
    setupConcurrency: int(values['setup-concurrency'], '--setup-concurrency', 1, 512),
    connectConcurrency: int(values['connect-concurrency'], '--connect-concurrency', 0, 20_000),
    controllerEntry,
    controllerFlags: values['controller-flags'].split(/\s+/).filter(Boolean),
    churn: int(values.churn, '--churn', 0, 200),
    keepLogs: values['keep-logs'],
    docs: values['no-docs'] ? undefined : resolve(repo, values.docs),
  };
}
