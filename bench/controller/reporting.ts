// `npm run bench:controller:reports`: the controller judging N agents that report at the agents' default rates. The
// real controller (the esbuild bundle the image runs, peers-file source of N agents in Z zones, default verdict window
// 5 s and grace 1 s) and N simulated agents in child processes, each with its own report stream
// (harness/reporting-agents.ts): every 5 s one UDP test (5 packets) and one TCP test per peer the bounded-probing
// assignment gives it (probing.maxPeers, as the agents compute it) and one DNS query, batched once a second. Measured:
// the controller's CPU and RSS over a steady healthy window, then for each of K faults (a node black-holed: every pair
// to and from it fails) the delay from the end of the window that raises its verdict to the verdict being visible in
// /api/v1/status (polled every 100 ms). Prints markdown and rewrites the "## Controller: reporting agents" section of
// docs/benchmarks.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeSection } from '../common/docs-section.ts';
import { summarise } from '../common/quantiles.ts';
import { parseExposition, sampleSum, type Sample } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { createProcReader } from '../../harness/proc-stats.ts';
import { buildProductionCli } from '../../harness/production-build.ts';
import type { SimulatedAgent } from '../../harness/reporting-agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { StatusDocument } from '../../src/controller/verdict-status.ts';
import { selectPeers } from '../../src/topology/peer-selection.ts';
import { launch, startAgentsProcess, type AgentsProcess } from './processes.ts';
import { createChildGroup } from '../../harness/child-group.ts';
import { describeMachine } from './report.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHILD_SCRIPT = fileURLToPath(new URL('./reporting-agents.ts', import.meta.url));
const HEADING = '## Controller: reporting agents';
const WINDOW_MS = 5000;
const GRACE_MS = 1000;
const DNS_TARGET = 'kubernetes.default.svc.cluster.local';

const USAGE = `Usage: node bench/controller/reporting.ts [--agents N] [--zones Z] [--max-peers B] [--steady S] [--faults K]
  [--children C] [--no-docs]
  --agents     simulated reporting agents (default 5000)
  --zones      zones they are spread over (default 3)
  --max-peers  the agents' probing.maxPeers (default 18)
  --steady     seconds of the steady healthy window measured (default 60)
  --faults     nodes black-holed one after the other, each until its verdict is raised and cleared (default 5)
  --children   processes the simulated agents are split over (default 2)
  --no-docs    do not rewrite the "${HEADING}" section of docs/benchmarks.md
  --controller-flag F     a Node flag for the controller (repeatable), e.g. --controller-flag=--optimize-for-size
  --controller-env N=V    an environment variable for the controller (repeatable), e.g. MALLOC_ARENA_MAX=2
  --compare-flag F        also run a second controller with this Node flag (repeatable), fed the same reports at the
                          same time: CPU, RSS and heap side by side
`;

interface Options {
  readonly agents: number;
  readonly zones: number;
  readonly maxPeers: number;
  readonly steadySeconds: number;
  readonly faults: number;
  readonly children: number;
  readonly docs: boolean;
  /** Node flags and environment variables for the controller process (experiments; the defaults are the image's). */
  readonly controllerFlags: readonly string[];
  readonly controllerEnv: Readonly<Record<string, string>>;
  /** When set, a second controller with these Node flags gets the same reports at the same time (side by side). */
  readonly compareFlags: readonly string[];
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      agents: { type: 'string', default: '5000' },
      zones: { type: 'string', default: '3' },
      'max-peers': { type: 'string', default: '18' },
      steady: { type: 'string', default: '60' },
      faults: { type: 'string', default: '5' },
      children: { type: 'string', default: '2' },
      'no-docs': { type: 'boolean', default: false },
      'controller-flag': { type: 'string', multiple: true, default: [] },
      'controller-env': { type: 'string', multiple: true, default: [] },
      'compare-flag': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${text}`);
    return value;
  };
  return {
    agents: int('agents', values.agents, 4),
    zones: int('zones', values.zones, 1),
    maxPeers: int('max-peers', values['max-peers'], 3),
    steadySeconds: int('steady', values.steady, 10),
    faults: int('faults', values.faults, 1),
    children: int('children', values.children, 1),
    docs: !values['no-docs'],
    controllerFlags: values['controller-flag'],
    compareFlags: values['compare-flag'],
    controllerEnv: Object.fromEntries(
      values['controller-env'].map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--controller-env must be NAME=VALUE, not ${pair}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
}

/** A request to a controller on a loaded host: retried a few times (a connect timeout is not a result). */
async function withRetries<T>(request: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= attempts) throw error;
      console.error(`request failed (${(error as Error).message}); retrying`);
      await sleep(500);
    }
  }
}

const heapOf = (scrape: Sample[]) => `${mib(sampleSum(scrape, 'nodejs_heap_size_used_bytes'))} / ${mib(sampleSum(scrape, 'nodejs_heap_size_total_bytes'))}`;
const recordedBetween = (before: Sample[], after: Sample[]) =>
  sampleSum(after, 'kconmon_verdict_reports_total', { result: 'recorded' }) - sampleSum(before, 'kconmon_verdict_reports_total', { result: 'recorded' });

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a');

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const log = (line: string) => console.log(line);
  const machine = describeMachine();
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-reports-'));
  const build = await buildProductionCli('bundle');
  const group = createChildGroup();
  const children: AgentsProcess[] = [];
  const cleanup = async () => {
    await Promise.all(children.map((child) => child.close().catch(() => undefined)));
    await group.stopAll(2000);
    await build.remove().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  process.on('exit', () => group.killNow());
  try {
    // N agents in Z zones, and the probe assignment the agents compute from that list.
    const nodes = Array.from({ length: options.agents }, (_, i) => ({ name: `node-${i + 1}`, zone: `zone-${i % options.zones}` }));
    const peers = nodes.map((node, i) => ({
      name: `agent-${i + 1}`,
      nodeName: node.name,
      ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      zone: node.zone,
    }));
    const peersFile = join(dir, 'peers.json');
    await writeFile(peersFile, JSON.stringify(peers));
    const assignment = selectPeers(nodes, { maxPeers: options.maxPeers }).targets;
    const agents: SimulatedAgent[] = peers.map((peer) => ({
      nodeName: peer.nodeName,
      podName: peer.name,
      peers: [...(assignment.get(peer.nodeName) ?? [])],
      dnsTargets: [DNS_TARGET],
    }));
    const outcomesPerWindow = agents.reduce((sum, agent) => sum + 2 * agent.peers.length + 1, 0);

    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      POD_NAME: 'kconmon-controller-bench',
      ...options.controllerEnv,
    };
    const startOne = async (label: string, flags: readonly string[]) => {
      const port = await freePort();
      const configPath = join(dir, `controller-${label}.json`);
      const config = { port, listenAddress: '127.0.0.1', logLevel: 'info', source: { peersFile }, probing: { maxPeers: options.maxPeers } };
      await writeFile(configPath, JSON.stringify(config));
      const argv = [process.execPath, ...flags, build.entry, 'controller', '--config', configPath];
      const child = launch(group, argv, { logPath: join(dir, `controller-${label}.log`), env });
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(`controller ${label} to be ready`, 60_000, async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true, 100);
      return { label, flags, pid: child.pid!, url, metrics: () => withRetries(async () => parseExposition(await (await fetch(`${url}/metrics`)).text())) };
    };
    const main = await startOne('main', options.controllerFlags);
    const compared = options.compareFlags.length > 0 ? await startOne('compared', options.compareFlags) : undefined;
    const { pid, metrics } = main;
    const base = main.url;
    const status = () => withRetries(async () => (await (await fetch(`${base}/api/v1/status`)).json()) as StatusDocument);
    log(`controller ready (pid ${pid}): ${options.agents} agents in ${options.zones} zones, maxPeers ${options.maxPeers}`);

    const share = Math.ceil(agents.length / options.children);
    for (let c = 0; c < options.children; c++) {
      const child = await startAgentsProcess(group, CHILD_SCRIPT, process.execPath, join(dir, `agents-${c}.log`));
      children.push(child);
      await child.request(
        { type: 'start', urls: [base, ...(compared ? [compared.url] : [])], agents: agents.slice(c * share, (c + 1) * share), probeIntervalMs: WINDOW_MS },
        'started',
        60_000,
      );
    }
    await waitUntil(
      `${options.agents} report streams`,
      120_000,
      async () =>
        sampleSum(await metrics(), 'kconmon_controller_report_streams') >= options.agents &&
        (compared === undefined || sampleSum(await compared.metrics(), 'kconmon_controller_report_streams') >= options.agents),
      500,
    );
    log('every agent reporting; warming up for 3 windows');
    await sleep(3 * WINDOW_MS + 1000);

    // Steady healthy window: CPU, RSS, reports, the windows' close time; the status every window.
    const proc = createProcReader();
    const cpuOf = (p: number) => {
      const times = proc.cpu(p);
      return times.user + times.system;
    };
    const childCpu0 = children.map((child) => cpuOf(child.pid));
    const cpu0 = cpuOf(pid);
    const comparedCpu0 = compared ? cpuOf(compared.pid) : 0;
    const comparedRss: number[] = [];
    const comparedBefore = compared ? await compared.metrics() : undefined;
    const start = performance.now();
    const before = await metrics();
    const rss: number[] = [];
    const closeSeconds: number[] = [];
    const reporting: number[] = [];
    const windowLatencies: number[] = [];
    let unhealthy = 0;
    // Each window: sleep until just before its status is due (its end + the grace), then poll every 50 ms until the
    // status shows it; sample RSS and the window's close time meanwhile.
    let shown = Date.parse((await status()).window?.end ?? '') || 0;
    while (performance.now() - start < options.steadySeconds * 1000) {
      const next = shown + WINDOW_MS;
      while (Date.now() < next + GRACE_MS - 100) {
        await sleep(Math.min(1000, next + GRACE_MS - 100 - Date.now()));
        rss.push(proc.rss(pid).total);
        if (compared) comparedRss.push(proc.rss(compared.pid).total);
      }
      const current = await waitUntil(
        'the next window in the status',
        30_000,
        async () => {
          const document = await status();
          return Date.parse(document.window?.end ?? '') > shown ? document : undefined;
        },
        50,
      );
      const end = Date.parse(current.window!.end);
      windowLatencies.push(Date.now() - end);
      shown = end;
      reporting.push(current.coverage.agentsReporting);
      if (current.healthy !== true) unhealthy++;
      closeSeconds.push(sampleSum(await metrics(), 'kconmon_verdict_window_seconds'));
    }
    const wall = (performance.now() - start) / 1000;
    const cpu = ((cpuOf(pid) - cpu0) / wall) * 1000;
    const comparedCpu = compared ? ((cpuOf(compared.pid) - comparedCpu0) / wall) * 1000 : Number.NaN;
    const comparedAfter = compared ? await compared.metrics() : undefined;
    const childCpu = children.map((child, i) => ((cpuOf(child.pid) - childCpu0[i]!) / wall) * 1000);
    const after = await metrics();
    const recordedPerSecond =
      (sampleSum(after, 'kconmon_verdict_reports_total', { result: 'recorded' }) - sampleSum(before, 'kconmon_verdict_reports_total', { result: 'recorded' })) /
      wall;
    const ignoredPerSecond =
      (sampleSum(after, 'kconmon_verdict_reports_total', { result: 'ignored' }) - sampleSum(before, 'kconmon_verdict_reports_total', { result: 'ignored' })) /
      wall;
    const steadyRss = summarise(rss);
    const windowLatency = summarise(windowLatencies);
    const heap = {
      used: sampleSum(after, 'nodejs_heap_size_used_bytes'),
      total: sampleSum(after, 'nodejs_heap_size_total_bytes'),
      external: sampleSum(after, 'nodejs_external_memory_bytes'),
    };
    const closes = summarise(closeSeconds.map((seconds) => seconds * 1000));
    const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const sideBySide = compared
      ? [
          '',
          'Side by side in the same run, fed the same reports at the same time: the controller as shipped (its own runtime flags, ' +
            `src/util/runtime-flags.ts${options.controllerFlags.length > 0 ? `, plus \`${options.controllerFlags.join(' ')}\`` : ''}) ` +
            `and with \`${compared.flags.join(' ')}\`:`,
          '',
          `| steady ${wall.toFixed(0)} s | as shipped | ${compared.flags.join(' ')} |`,
          '|---|---:|---:|',
          `| CPU | ${cpu.toFixed(0)} m | ${comparedCpu.toFixed(0)} m |`,
          `| RSS mean / max | ${mib(mean(rss))} / ${mib(summarise(rss).max)} | ${mib(mean(comparedRss))} / ${mib(summarise(comparedRss).max)} |`,
          `| RSS peak (VmHWM, whole run so far) | ${mib(proc.rss(pid).peak)} | ${mib(proc.rss(compared.pid).peak)} |`,
          `| V8 heap used / total at the end | ${heapOf(after)} | ${heapOf(comparedAfter!)} |`,
          `| outcomes recorded per s | ${recordedPerSecond.toFixed(0)} | ${(recordedBetween(comparedBefore!, comparedAfter!) / wall).toFixed(0)} |`,
        ]
      : [];
    if (compared) log(sideBySide.join('\n'));
    log(
      `steady ${wall.toFixed(0)} s: CPU ${cpu.toFixed(0)} m, RSS max ${mib(steadyRss.max)}, heap ${mib(heap.used)} of ${mib(heap.total)}, ` +
        `external ${mib(heap.external)}, recorded ${recordedPerSecond.toFixed(0)}/s, window → status ${ms(windowLatency.p50)} / ${ms(windowLatency.max)}`,
    );

    // Faults: each node black-holed until its verdict shows, then healed until it clears.
    const latencies: number[] = [];
    const faultToVerdict: number[] = [];
    const healToClear: number[] = [];
    let otherVerdicts = 0;
    const faultCpu0 = cpuOf(pid);
    const faultStart = performance.now();
    for (let k = 1; k <= options.faults; k++) {
      const node = nodes[Math.floor((k * options.agents) / (options.faults + 1))]!.name;
      await Promise.all(children.map((child) => child.request({ type: 'fault', node }, 'faulted', 10_000)));
      const faultAt = Date.now();
      const seen = await waitUntil(
        `the verdict on ${node}`,
        10 * WINDOW_MS,
        async () => {
          const current = await status();
          const verdict = current.verdicts.find((v) => v.id === `node:${node}`);
          return verdict === undefined ? undefined : { visibleAt: Date.now(), verdict, others: current.verdicts.length - 1, shownWindow: current.window?.end };
        },
        100,
      );
      latencies.push(seen.visibleAt - Date.parse(seen.verdict.raisedAt));
      faultToVerdict.push(seen.visibleAt - faultAt);
      otherVerdicts = Math.max(otherVerdicts, seen.others);
      log(
        `fault ${k}: ${seen.verdict.summary} — visible ${seen.visibleAt - Date.parse(seen.verdict.raisedAt)} ms after its window's end ` +
          `(${seen.verdict.raisedAt}; status window ${seen.shownWindow})`,
      );
      await Promise.all(children.map((child) => child.request({ type: 'fault', node: null }, 'faulted', 10_000)));
      const healAt = Date.now();
      await waitUntil(`the verdict on ${node} to clear`, 10 * WINDOW_MS, async () => (await status()).verdicts.length === 0, 100);
      healToClear.push(Date.now() - healAt);
    }
    const faultWall = (performance.now() - faultStart) / 1000;
    const faultCpu = ((cpuOf(pid) - faultCpu0) / faultWall) * 1000;
    const peak = proc.rss(pid).peak;
    const latency = summarise(latencies);
    const raise = summarise(faultToVerdict);
    const clear = summarise(healToClear);
    const load = loadavg()[0] ?? Number.NaN;

    const assigned = agents.reduce((sum, agent) => sum + agent.peers.length, 0);
    const body = [
      HEADING,
      '',
      `Command: \`npm run bench:controller:reports\` (\`${['node bench/controller/reporting.ts', ...process.argv.slice(2)].join(' ')}\`).`,
      `Machine: ${machine.cpus} CPUs (${machine.model}), ${machine.memoryGiB.toFixed(0)} GiB, Node ${machine.node}, Linux ${machine.kernel}. ` +
        `Date: ${machine.date}.`,
      '**Shared host**: other jobs ran on the same 2 CPUs during the run (other benchmarks and test suites); the',
      `simulated agents ran on them too (${childCpu.map((value) => `${value.toFixed(0)} m`).join(' + ')} in ${options.children} processes). ` +
        `Load average (1 min) at the end: ${load.toFixed(2)}.`,
      '',
      'Set-up: the controller as the image runs it (the esbuild bundle, `kconmon controller`, own process; CPU utime+stime and RSS from',
      `/proc) with a peers-file source of ${options.agents} agents in ${options.zones} zones, the default verdict window (5 s) and grace (1 s),`,
      `\`probing.maxPeers\` ${options.maxPeers}. ${options.agents} simulated agents (harness/reporting-agents.ts) each hold their own`,
      "`POST /v1/reports` stream and report at the agents' default rates: every 5 s one UDP test (5 packets) and one TCP test per",
      `assigned peer (the bounded-probing assignment the agents compute: ${assigned} pairs) and one DNS query, batched once a second —`,
      `${outcomesPerWindow} outcomes per window, ${(outcomesPerWindow / 5).toFixed(0)}/s. Steady: ${wall.toFixed(0)} s healthy after 3 windows of warm-up,`,
      'the status read as soon as each window is due. Faults: nodes black-holed one after the other (every pair to and from it',
      'fails), each until its verdict is visible in `/api/v1/status` (polled every 100 ms), then healed until it clears.',
      'Latency = seen in the status − the end of the window (the last reports of a window are sent just before its end; it closes',
      "after the 1 s grace for reports in flight, which is part of the figure; both clocks are this machine's).",
      '',
      '| | value |',
      '|---|---:|',
      `| report streams / outcomes recorded per s (ignored) | ${options.agents} / ${recordedPerSecond.toFixed(0)} (${ignoredPerSecond.toFixed(0)}) |`,
      `| **controller CPU, steady** | **${cpu.toFixed(0)} m** over ${wall.toFixed(0)} s |`,
      `| controller CPU during the faults (status polled every 100 ms) | ${faultCpu.toFixed(0)} m over ${faultWall.toFixed(0)} s |`,
      `| window close (rules + hysteresis), p50 / max | ${ms(closes.p50)} / ${ms(closes.max)} over ${closes.count} windows |`,
      `| **RSS steady mean / max; peak (VmHWM)** | ${mib(rss.reduce((a, b) => a + b, 0) / rss.length)} / ${mib(steadyRss.max)}; **${mib(peak)}** |`,
      `| V8 heap used / total; external (end of the steady window) | ${mib(heap.used)} / ${mib(heap.total)}; ${mib(heap.external)} |`,
      `| **every window: its end → shown by the status, p50 / max** | **${ms(windowLatency.p50)} / ${ms(windowLatency.max)}** ` +
        `(${windowLatency.count} windows) |`,
      `| agents reporting per window (min) / windows not healthy | ${Math.min(...reporting)} of ${options.agents} / ${unhealthy} of ${reporting.length} |`,
      `| **verdict latency: window end → visible, p50 / max** | **${ms(latency.p50)} / ${ms(latency.max)}** (${latency.count} faults) |`,
      `| fault → verdict visible, p50 / max (design: ≤ 3 windows) | ${ms(raise.p50)} / ${ms(raise.max)} |`,
      `| heal → verdict cleared, p50 / max | ${ms(clear.p50)} / ${ms(clear.max)} |`,
      `| other verdicts while a node was black-holed (max) | ${otherVerdicts} |`,
      ...sideBySide,
      '',
      '**Targets**',
      '',
      `- **${cpu <= 500 ? 'PASS' : 'FAIL'}** controller CPU ≤ 500 m with ${options.agents} agents reporting: ${cpu.toFixed(0)} m (steady)`,
      `- **${peak <= 384 * 1024 * 1024 ? 'PASS' : 'FAIL'}** controller RSS ≤ 384 MiB: peak ${mib(peak)}`,
      `- **${Math.max(latency.max, windowLatency.max) <= 2000 ? 'PASS' : 'FAIL'}** verdicts ≤ 2 s behind the reports: ` +
        `max ${ms(latency.max)} over ${latency.count} faults, ${ms(windowLatency.max)} over ${windowLatency.count} steady windows`,
      '',
    ].join('\n');
    log(`\n${body}`);
    if (options.docs) {
      await writeSection(join(REPO, 'docs', 'benchmarks.md'), HEADING, body);
      log('wrote docs/benchmarks.md');
    }
    return 0;
  } finally {
    await cleanup();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
