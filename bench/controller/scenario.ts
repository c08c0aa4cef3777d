// One benchmark size N: grow the cluster to N Nodes + N agent Pods, start the controller as its own process, wait for
// its first sync, connect N simulated agents at once, then a fixed steady window — idle first, then timed changes —
// reading the controller's CPU and RSS from /proc throughout and its API requests from the audit log afterwards.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { countRequests, readAuditedRequests, type RequestCount } from './audit.ts';
import { CONTROLLER_USER, populate, setNodeZone, setPodReady, startChurn, type BenchCluster, type Churn, type PopulateResult } from './cluster.ts';
import { NAMESPACE, ZONES, zoneOf } from './kube-objects.ts';
import { SETTLE_SECONDS, type BenchOptions } from './options.ts';
import { cpuSeconds, createProcReader, millicores, sampleRss } from '../../harness/proc-stats.ts';
import { startAgentsProcess, startControllerProcess, type AgentsProcess, type ControllerProcess } from './processes.ts';
import type { ChildGroup } from '../../harness/child-group.ts';
import type { ConnectedReport, ReceiptsReport } from './agents.ts';
import { summarise, type Summary } from '../common/quantiles.ts';

export interface ChangeResult {
  readonly kind: 'zone label' | 'pod NotReady';
  readonly target: number;
  /** How long the API call took, ms. */
  readonly callMs: number;
  readonly version: number | undefined;
  /** Receipt − API call return, ms, over the agents that received it. */
  readonly latency: Summary;
  readonly missing: number;
  /** The controller's push (its log timestamp, ms resolution) − API call return. */
  readonly pushLagMs: number | undefined;
}

export interface SizeResult {
  readonly n: number;
  readonly setup: PopulateResult;
  readonly readyMs: number;
  readonly startupCpuSeconds: number;
  readonly startupRequests: RequestCount;
  readonly rssAfterSync: number;
  readonly heapAfterSync: number | undefined;
  readonly connect: {
    readonly ms: number;
    readonly perAgent: Summary;
    readonly snapshotBytes: number;
    readonly failures: number;
    readonly errors: readonly string[];
    readonly millicores: number;
    readonly rssMax: number;
  };
  readonly idle: { readonly seconds: number; readonly millicores: number; readonly rssMean: number; readonly rssMax: number; readonly churnedPods: number };
  readonly changing: { readonly seconds: number; readonly millicores: number; readonly rssMax: number };
  readonly rssEnd: number;
  readonly hwm: number;
  readonly heapEnd: number | undefined;
  readonly externalEnd: number | undefined;
  readonly window: { readonly seconds: number; readonly requests: RequestCount };
  readonly changes: readonly ChangeResult[];
  readonly fanout: Summary;
  /** The same receipts timed from the API call's start: an upper bound when a call's response is slow to return. */
  readonly fanoutFromCallStart: Summary;
  readonly fanoutMissing: number;
  readonly versionsInWindow: number;
  readonly stream: {
    readonly heartbeats: number;
    readonly gaps: number;
    readonly disconnects: number;
    readonly open: number;
    readonly errors: readonly string[];
  };
  readonly agentsProcessMillicores: number;
  /** Host 1-minute load average at the end of the window (other work on the machine skews latencies). */
  readonly loadAverage: number;
}

export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly bench: BenchCluster;
  readonly dir: string;
  readonly nodeBinary: string;
  /** The kconmon CLI file the controller runs. */
  readonly cliEntry: string;
  readonly agentsScript: string;
  /** Where the controller and the simulated agents are started (the run's group ends them on exit). */
  readonly group: ChildGroup;
  readonly log: (line: string) => void;
}

const wall = () => performance.timeOrigin + performance.now();
const HEAP_METRICS = ['nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes'];

async function sleepUntil(at: number): Promise<void> {
  const wait = at - performance.now();
  if (wait > 0) await sleep(wait);
}

export async function runSize(context: ScenarioContext, n: number): Promise<SizeResult> {
  const { options, bench, log } = context;
  log(`\n## N = ${n}: growing the cluster from ${bench.count} to ${n} Nodes + agent Pods (${options.setupConcurrency} calls in flight)`);
  const setup = await populate(bench, n, options.objects, options.setupConcurrency, (done) => log(`   … ${done} nodes + pods created`));
  log(`   created ${setup.created} Nodes + ${setup.created} Pods in ${setup.seconds.toFixed(1)} s`);

  const spawnedWall = wall();
  const spawned = performance.now();
  let controller: ControllerProcess | undefined;
  let agents: AgentsProcess | undefined;
  const restore: (() => Promise<unknown>)[] = [];
  let churn: Churn | undefined;
  try {
    controller = await startControllerProcess({
      group: context.group,
      dir: context.dir,
      label: String(n),
      cliEntry: context.cliEntry,
      nodeBinary: context.nodeBinary,
      nodeFlags: options.controllerFlags,
      kubeconfigPath: bench.controllerKubeconfigPath,
      namespace: NAMESPACE,
    });
    const pid = controller.pid;
    const proc = createProcReader();
    const rss = sampleRss(proc, pid, 100);
    await controller.waitReady(300_000);
    const readyMs = performance.now() - spawned;
    const startupCpuSeconds = cpuSeconds(proc.cpu(pid));
    log(`   controller (pid ${pid}) synced and ready ${(readyMs / 1000).toFixed(2)} s after start, ${startupCpuSeconds.toFixed(2)} CPU s`);
    await sleep(2000);
    const rssAfterSync = proc.rss(pid).total;
    const heapAfterSync = (await controller.metrics(HEAP_METRICS)).nodejs_heap_size_used_bytes;

    agents = await startAgentsProcess(context.group, context.agentsScript, context.nodeBinary, join(context.dir, `agents-${n}.log`));
    const connectCpu0 = cpuSeconds(proc.cpu(pid));
    const connect0 = performance.now();
    const connected = await agents.request<ConnectedReport>(
      { type: 'connect', port: controller.port, count: n, concurrency: options.connectConcurrency, timeoutMs: 240_000 },
      'connected',
      260_000,
    );
    const connect1 = performance.now();
    const connectCpu1 = cpuSeconds(proc.cpu(pid));
    log(
      `   ${connected.snapshots}/${n} agents connected with their snapshot in ${(connected.ms / 1000).toFixed(2)} s (${(connected.snapshotBytes / Math.max(1, connected.snapshots) / 1024).toFixed(0)} KiB each)`,
    );
    if (connected.snapshots < n)
      throw new Error(`only ${connected.snapshots} of ${n} agents got a snapshot (${connected.failures} failed): ${connected.errors.slice(0, 5).join('; ')}`);
    await sleep(1000);

    // The steady window: idle, then one change every `spacing` seconds, then time for the last one to arrive.
    const windowMs = options.windowSeconds * 1000;
    const spacingMs = options.spacingSeconds * 1000;
    const idleMs = windowMs - options.changes * spacingMs - SETTLE_SECONDS * 1000;
    const w0 = performance.now();
    const w0Wall = wall();
    const cpuW0 = cpuSeconds(proc.cpu(pid));
    const agentsCpuW0 = cpuSeconds(proc.cpu(agents.pid));
    log(
      `   window: ${(idleMs / 1000).toFixed(0)} s idle${options.churn ? ` (with ${options.churn} pods/s churning in another namespace)` : ''}, then ${options.changes} changes ${options.spacingSeconds} s apart, ${SETTLE_SECONDS} s to settle`,
    );
    churn = options.churn > 0 ? await startChurn(bench, options.churn) : undefined;
    await sleepUntil(w0 + idleMs - (churn ? 1000 : 0));
    const churnedPods = (await churn?.stop()) ?? 0;
    churn = undefined;
    await sleepUntil(w0 + idleMs);
    const idleEnd = performance.now();
    const cpuIdleEnd = cpuSeconds(proc.cpu(pid));
    const timed: { kind: ChangeResult['kind']; target: number; startedAt: number; returnedAt: number; matches: (line: string) => boolean }[] = [];
    for (let k = 0; k < options.changes; k++) {
      await sleepUntil(w0 + idleMs + k * spacingMs);
      // Targets spread over the cluster; each is restored (untimed) after the window.
      const target = Math.min(n - 1, Math.floor(((k + 0.5) * n) / options.changes));
      const name = `"name":"agent-${target}"`;
      if (k % 2 === 0) {
        const zone = ZONES[(ZONES.indexOf(zoneOf(target)) + 1) % ZONES.length]!;
        const startedAt = wall();
        await setNodeZone(bench, target, zone);
        timed.push({ kind: 'zone label', target, startedAt, returnedAt: wall(), matches: (line) => line.includes(name) && line.includes(`"zone":"${zone}"`) });
        restore.push(() => setNodeZone(bench, target, zoneOf(target)));
      } else {
        const startedAt = wall();
        await setPodReady(bench, target, false);
        timed.push({ kind: 'pod NotReady', target, startedAt, returnedAt: wall(), matches: (line) => line.includes(name) && line.includes('"ready":false') });
        restore.push(() => setPodReady(bench, target, true));
      }
    }
    await sleepUntil(w0 + windowMs);
    const w1 = performance.now();
    const w1Wall = wall();
    const cpuW1 = cpuSeconds(proc.cpu(pid));
    const agentsCpuW1 = cpuSeconds(proc.cpu(agents.pid));
    const memEnd = proc.rss(pid);
    const heap = await controller.metrics(HEAP_METRICS);
    const receipts = await agents.request<ReceiptsReport>({ type: 'collect' }, 'receipts', 120_000);
    const pushes = controller.pushTimes();

    const all: number[] = [];
    const allFromStart: number[] = [];
    let fanoutMissing = 0;
    const changes: ChangeResult[] = timed.map((change) => {
      const receipt = receipts.versions.find((candidate) => change.matches(candidate.line));
      const latencies = receipt ? receipt.times.filter((t): t is number => t !== null).map((t) => t - change.returnedAt) : [];
      const missing = n - latencies.length;
      fanoutMissing += missing;
      all.push(...latencies);
      for (const latency of latencies) allFromStart.push(latency + (change.returnedAt - change.startedAt));
      const pushedAt = receipt ? pushes.get(receipt.version) : undefined;
      return {
        kind: change.kind,
        target: change.target,
        callMs: change.returnedAt - change.startedAt,
        version: receipt?.version,
        latency: summarise(latencies),
        missing,
        pushLagMs: pushedAt === undefined ? undefined : pushedAt - change.returnedAt,
      };
    });
    const versionsInWindow = receipts.versions.length;
    for (const [index, change] of changes.entries()) {
      log(
        `   change ${index + 1} (${change.kind}, #${change.target}): v${change.version ?? '?'}, call ${change.callMs.toFixed(1)} ms, controller push +${change.pushLagMs?.toFixed(0) ?? '?'} ms, ` +
          `agents p50 ${change.latency.p50.toFixed(1)} / p99 ${change.latency.p99.toFixed(1)} / max ${change.latency.max.toFixed(1)} ms${change.missing ? `, ${change.missing} missing` : ''}`,
      );
    }

    // Let the apiserver finish writing the audit events of the window.
    await sleep(1000);
    const audited = await readAuditedRequests(bench.auditLogPath, CONTROLLER_USER);
    const startupRequests = countRequests(audited, spawnedWall - 1000, w0Wall);
    const windowRequests = countRequests(audited, w0Wall, w1Wall);
    const result: SizeResult = {
      n,
      setup,
      readyMs,
      startupCpuSeconds,
      startupRequests,
      rssAfterSync,
      heapAfterSync,
      connect: {
        ms: connected.ms,
        perAgent: summarise(connected.perAgentMs),
        snapshotBytes: connected.snapshotBytes / Math.max(1, connected.snapshots),
        failures: connected.failures,
        errors: connected.errors,
        millicores: millicores(connectCpu0, connectCpu1, connect1 - connect0),
        rssMax: rss.between(connect0, connect1 + 1000).maxBytes,
      },
      idle: {
        seconds: (idleEnd - w0) / 1000,
        millicores: millicores(cpuW0, cpuIdleEnd, idleEnd - w0),
        rssMean: rss.between(w0, idleEnd).meanBytes,
        rssMax: rss.between(w0, idleEnd).maxBytes,
        churnedPods,
      },
      changing: { seconds: (w1 - idleEnd) / 1000, millicores: millicores(cpuIdleEnd, cpuW1, w1 - idleEnd), rssMax: rss.between(idleEnd, w1).maxBytes },
      rssEnd: memEnd.total,
      hwm: memEnd.peak,
      heapEnd: heap.nodejs_heap_size_used_bytes,
      externalEnd: heap.nodejs_external_memory_bytes,
      window: { seconds: (w1 - w0) / 1000, requests: windowRequests },
      changes,
      fanout: summarise(all),
      fanoutFromCallStart: summarise(allFromStart),
      fanoutMissing,
      versionsInWindow,
      stream: { heartbeats: receipts.heartbeats, gaps: receipts.gaps, disconnects: receipts.disconnects, open: receipts.open, errors: receipts.errors },
      agentsProcessMillicores: millicores(agentsCpuW0, agentsCpuW1, w1 - w0),
      loadAverage: loadavg()[0] ?? Number.NaN,
    };
    rss.stop();
    return result;
  } finally {
    await churn?.stop().catch(() => undefined);
    await agents?.close().catch(() => undefined);
    if (controller) await context.group.stop(controller.child, 5000);
    for (const undo of restore) await undo().catch((error: unknown) => log(`   (could not restore a changed object: ${(error as Error).message})`));
  }
}
