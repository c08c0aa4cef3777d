// Markdown for the controller benchmark: one column per size N, the targets with PASS/FAIL, the per-change timings of
// the largest N, and the "## Controller" section of docs/benchmarks.md (only that section is replaced).
import { writeSection as writeDocsSection } from '../common/docs-section.ts';
import { availableParallelism, release } from 'node:os';
import { readFileSync } from 'node:fs';
import { formatCount } from './audit.ts';
import { SETTLE_SECONDS, type BenchOptions } from './options.ts';
import type { SizeResult } from './scenario.ts';
import { nodeObject, podObject, podStatus } from './kube-objects.ts';

const HEADING = '## Controller';
const TARGET_RSS_BYTES = 256 * 1024 * 1024;
const TARGET_P99_MS = 1000;
/** Re-watches are timer-driven (a quiet watch is re-opened every 30 s), so equal windows may differ by a few. */
const REQUEST_TOLERANCE = 2;

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly kernel: string;
  readonly memoryGiB: number;
  readonly date: string;
}

export function describeMachine(): Machine {
  let model = 'unknown';
  let memoryGiB = Number.NaN;
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
    memoryGiB = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 1024 / 1024;
  } catch {
    // not Linux
  }
  return { cpus: availableParallelism(), model, node: process.version, kernel: release(), memoryGiB, date: new Date().toISOString() };
}

const mb = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
const ms = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(digits)} ms`);
const sec = (value: number) => `${value.toFixed(1)} s`;
const mc = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} m` : 'n/a');

export interface Verdict {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export function verdicts(results: readonly SizeResult[]): Verdict[] {
  const largest = results.at(-1)!;
  const smallest = results[0]!;
  const out: Verdict[] = [
    {
      name: `controller RSS ≤ 256 MB at N = ${largest.n}`,
      pass: largest.hwm <= TARGET_RSS_BYTES,
      detail: `peak (VmHWM) ${mb(largest.hwm)}, steady ${mb(largest.rssEnd)}`,
    },
    {
      name: `p99 fan-out ≤ 1 s at N = ${largest.n}`,
      pass: largest.fanout.p99 <= TARGET_P99_MS && largest.fanoutMissing === 0,
      detail: `p99 ${ms(largest.fanout.p99)} over ${largest.fanout.count} receipts (${largest.changes.length} changes × ${largest.n} agents)${largest.fanoutMissing ? `, ${largest.fanoutMissing} never received` : ''}`,
    },
  ];
  const lists = (count: SizeResult['window']['requests']) =>
    Object.entries(count.byKind).reduce((sum, [kind, n]) => sum + (kind.startsWith('list ') ? n : 0), 0);
  const relisted = results.filter((result) => lists(result.window.requests) > 0);
  if (results.length > 1) {
    const grewWindow = largest.window.requests.total - smallest.window.requests.total;
    const grewStartup = largest.startupRequests.total - smallest.startupRequests.total;
    out.push({
      name: `API requests do not grow with N (${smallest.n} → ${largest.n})`,
      pass: grewWindow <= REQUEST_TOLERANCE && grewStartup <= REQUEST_TOLERANCE && relisted.length === 0,
      detail: `start-up ${smallest.startupRequests.total} → ${largest.startupRequests.total}, ${sec(largest.window.seconds)} window ${smallest.window.requests.total} → ${largest.window.requests.total}${relisted.length ? `; re-LIST in the window at N = ${relisted.map((r) => r.n).join(', ')}` : ''}`,
    });
  } else {
    out.push({
      name: 'no re-LIST in the steady window',
      pass: relisted.length === 0,
      detail: `${formatCount(largest.window.requests)} in ${sec(largest.window.seconds)}`,
    });
  }
  return out;
}

export function resultsTable(results: readonly SizeResult[]): string {
  const row = (label: string, cell: (result: SizeResult) => string) => `| ${label} | ${results.map(cell).join(' | ')} |`;
  return [
    `| | ${results.map((result) => `N = ${result.n}`).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
    row(
      'set-up: Nodes + Pods created (+ status)',
      (r) => `${r.setup.created} + ${r.setup.created} in ${sec(r.setup.seconds)} (${(r.setup.requests / r.setup.seconds).toFixed(0)} req/s)`,
    ),
    row('controller start → synced and ready', (r) => `${sec(r.readyMs / 1000)} (${r.startupCpuSeconds.toFixed(2)} CPU s)`),
    row('snapshot line per agent', (r) => `${(r.connect.snapshotBytes / 1024).toFixed(0)} KiB`),
    row(
      'all N agents connect at once: all snapshots in',
      (r) => `${sec(r.connect.ms / 1000)} (per agent p50 ${ms(r.connect.perAgent.p50)}, p99 ${ms(r.connect.perAgent.p99)})`,
    ),
    row('**fan-out: API call return → agent, p50**', (r) => `**${ms(r.fanout.p50, 1)}**`),
    row('**fan-out p99**', (r) => `**${ms(r.fanout.p99, 1)}**`),
    row('fan-out max', (r) => ms(r.fanout.max, 1)),
    row('fan-out p99 / max timed from the API call start', (r) => `${ms(r.fanoutFromCallStart.p99, 1)} / ${ms(r.fanoutFromCallStart.max, 1)}`),
    row('API call return → controller push (median of changes)', (r) => ms(median(r.changes.map((c) => c.pushLagMs)))),
    row('receipts missing / version gaps / disconnects', (r) => `${r.fanoutMissing} / ${r.stream.gaps} / ${r.stream.disconnects}`),
    row('**RSS peak (VmHWM, incl. connect herd)**', (r) => `**${mb(r.hwm)}**`),
    row('RSS after sync, no agents connected', (r) => mb(r.rssAfterSync)),
    row('RSS max while the herd connects', (r) => mb(r.connect.rssMax)),
    row('RSS steady (idle mean / idle max / end of window)', (r) => `${mb(r.idle.rssMean)} / ${mb(r.idle.rssMax)} / ${mb(r.rssEnd)}`),
    row('V8 heap used after sync / end; external end', (r) => `${mb(r.heapAfterSync)} / ${mb(r.heapEnd)}; ${mb(r.externalEnd)}`),
    row('CPU while the herd connects', (r) => mc(r.connect.millicores)),
    row('CPU idle (heartbeats to N agents every 5 s)', (r) => `${mc(r.idle.millicores)} over ${sec(r.idle.seconds)}`),
    row('CPU during the changes', (r) => `${mc(r.changing.millicores)} over ${sec(r.changing.seconds)}`),
    row('**API requests at start-up**', (r) => `**${formatCount(r.startupRequests)}**`),
    row(`**API requests in the steady window**`, (r) => `**${formatCount(r.window.requests)}** in ${sec(r.window.seconds)}`),
    row('simulated agents process CPU (window)', (r) => mc(r.agentsProcessMillicores)),
    row('host load average (1 min) at the end of the window', (r) => r.loadAverage.toFixed(2)),
    ...(results.some((r) => r.idle.churnedPods > 0) ? [row('pods churned in another namespace (idle part)', (r) => String(r.idle.churnedPods))] : []),
  ].join('\n');
}

function median(values: readonly (number | undefined)[]): number {
  const finite = values.filter((value): value is number => value !== undefined && Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

export function changesTable(result: SizeResult): string {
  return [
    `| # | change | API call | → controller push | → agents p50 | p99 | max |`,
    `|---:|---|---:|---:|---:|---:|---:|`,
    ...result.changes.map(
      (change, index) =>
        `| ${index + 1} | ${change.kind} (#${change.target}, v${change.version ?? '?'}) | ${ms(change.callMs, 1)} | ${ms(change.pushLagMs)} | ${ms(change.latency.p50, 1)} | ${ms(change.latency.p99, 1)} | ${ms(change.latency.max, 1)} |`,
    ),
  ].join('\n');
}

export function verdictList(list: readonly Verdict[]): string {
  return list.map((verdict) => `- ${verdict.pass ? '**PASS**' : '**FAIL**'} ${verdict.name}: ${verdict.detail}`).join('\n');
}

export function renderSection(results: readonly SizeResult[], options: BenchOptions, machine: Machine, command: string, entry: string): string {
  const largest = results.at(-1)!;
  const idle = options.windowSeconds - options.changes * options.spacingSeconds - SETTLE_SECONDS;
  const kib = (value: unknown) => (JSON.stringify(value).length / 1024).toFixed(1);
  const sizes = `Node ${kib(nodeObject(1, options.objects))} KiB, Pod ${kib({ ...podObject(1, options.objects), status: podStatus(1, options.objects, true) })} KiB of JSON as sent, before the apiserver adds managedFields`;
  return [
    HEADING,
    '',
    `Command: \`${command}\` (\`bench/controller/run.ts\`). Machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memoryGiB.toFixed(0)} GiB, Node ${machine.node}, Linux ${machine.kernel}. Date: ${machine.date}.`,
    '',
    `Set-up: a real etcd + kube-apiserver on loopback (harness/kube-cluster.ts), ${options.objects} objects (${sizes}): N Nodes (zones over 3) and N agent Pods ` +
      '(`app=kconmon,component=agent`, one per node, Running/Ready with a pod IP set through the status subresource). The controller runs as its own process ' +
      '(`kconmon controller`) with a ServiceAccount token bound to nodes get/list/watch (ClusterRole) and pods get/list/watch in its namespace (Role) ' +
      `(${entry}); its CPU (utime+stime) and RSS (VmRSS, VmHWM) come from /proc. N simulated agents in one other process hold \`/v1/watch\` streams ` +
      `(${options.connectConcurrency ? `at most ${options.connectConcurrency} connecting at a time` : 'all opened at once, as after a controller restart'}). ` +
      `Steady window per N: ${options.windowSeconds} s — ${idle} s idle${options.churn ? ` (${options.churn} pods/s created and deleted in another namespace)` : ''}, then ${options.changes} changes ${options.spacingSeconds} s apart (alternately a Node zone-label patch and a Pod Ready→False status patch), ${SETTLE_SECONDS} s to settle. ` +
      'Fan-out = wall-clock time from the API call returning to each agent reading the change line (both processes on this machine; p50/p99/max over all changes × agents). ' +
      "API requests are counted from the apiserver's audit log (policy: Metadata for the controller's user only), one per audit ID. " +
      `All processes share the ${machine.cpus} CPUs (apiserver, etcd, controller, simulated agents), so the latencies include contention.`,
    '',
    resultsTable(results),
    '',
    '**Targets**',
    '',
    verdictList(verdicts(results)),
    '',
    `Changes at N = ${largest.n}:`,
    '',
    changesTable(largest),
    '',
  ].join('\n');
}

/** Replaces (or appends) this section; re-reads the file right before writing so concurrent edits of others survive. */
export async function writeSection(path: string, body: string): Promise<void> {
  await writeDocsSection(path, HEADING, body);
}
