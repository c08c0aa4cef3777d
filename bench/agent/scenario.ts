// One benchmark configuration: N synthetic peers, the agent, the minimal UDP client and ping, a warm-up, then one
// measured window; returns the agent's CPU, RSS, probe counts and RTTs next to the client's and the kernel's.
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { addressPlan } from './addresses.ts';
import type { ChildGroup } from '../../harness/child-group.ts';
import { controlChannel } from './ipc.ts';
import { startAgentProcess, type AgentProcess } from './agent-process.ts';
import { cpuSeconds, type ProcReader } from '../../harness/proc-stats.ts';
import { sampleSum as sum, sampleValue as value, type Scrape } from '../../harness/exposition.ts';
import { bucketDelta, histogramQuantile } from './prometheus.ts';
import { runPing, type PingResult } from './ping.ts';
import { summarise, type Summary } from '../common/quantiles.ts';
import type { SyntheticPeersStats } from './synthetic-peers.ts';
import { openWindow } from './measurement-window.ts';
import { agentDefaultSchedule, startSyntheticPeers } from './synthetic-peers-process.ts';
import type { UdpClientConfig, UdpClientStats } from './udp-client.ts';

const UDP_CLIENT = fileURLToPath(new URL('./udp-client.ts', import.meta.url));
const MiB = 1024 * 1024;

export type Mode = 'outbound' | 'bidirectional';

export interface ScenarioOptions {
  readonly peers: number;
  readonly mode: Mode;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly port: number;
  readonly group: ChildGroup;
  readonly proc: ProcReader;
  /** Directory for the agent's V8 CPU profile, if wanted. */
  readonly cpuProfileDir?: string | undefined;
  /** The agent's CLI entry (default src/cli.ts) and extra Node flags. */
  readonly agentEntry?: string | undefined;
  readonly agentNodeFlags?: readonly string[] | undefined;
  readonly log: (line: string) => void;
  /** Scrape /metrics this often during the window as well (0: only around it), seconds. */
  readonly scrapeEverySeconds?: number | undefined;
  /** Temporary directories in use, for the benchmark's signal handler to remove if it is interrupted. */
  readonly tempDirs: Set<string>;
}

export interface ProbeCount {
  readonly passed: number;
  readonly failed: number;
}

export interface ScenarioResult {
  readonly peers: number;
  readonly mode: Mode;
  /** Length of the CPU window (s) and of the counter window between the two scrapes (s). */
  readonly windowSeconds: number;
  readonly counterWindowSeconds: number;
  /** Mean seconds between two probes of one peer by one test: interval + mean jitter. */
  readonly meanPeriodSeconds: number;
  readonly agent: {
    readonly cpuMillicores: number;
    readonly userMillicores: number;
    readonly systemMillicores: number;
    readonly mainThreadMillicores: number;
    readonly rssMeanMiB: number;
    readonly rssMaxMiB: number;
    readonly rssAnonMaxMiB: number;
    readonly eventLoopLagP99Ms: number;
    readonly heapUsedMiB: number;
    /** V8's young generation as sized at the end of the window (it grows under allocation pressure). */
    readonly newSpaceMiB: number;
    /** One /metrics scrape: body size and the agent's CPU per scrape (mean of a few, after the window). */
    readonly metricsBytes: number;
    readonly scrapeCpuMs: number;
  };
  /** CPU used by every other process on the host during the window (other work sharing the cores), millicores. */
  readonly hostOtherMillicores: number;
  /** Probes completed in the counter window, and how many the schedule implies (per test). */
  readonly expectedPerTest: number;
  readonly udp: ProbeCount & { readonly packetsSent: number; readonly packetsReceived: number; readonly late: number };
  readonly tcp: ProbeCount;
  /** Datagrams the agent's echo answered in the window (bidirectional mode: the peers' probes). */
  readonly agentEchoed: number;
  /** Failed UDP / TCP tests since the agent started, start-up included (on loopback every one is a false loss). */
  readonly failedSinceStart: { readonly udp: number; readonly tcp: number; readonly udpUnmeasured: number };
  /** Datagrams the kernel dropped at the agent's sockets (probe socket and echo) in the window and since start. */
  readonly kernelDrops: { readonly window: number; readonly total: number };
  /** Scrapes during the window (--scrape-every) and the slowest one's latency, ms. */
  readonly windowScrapes: { readonly count: number; readonly slowestMs: number };
  /** Median TCP connect time over the peers' last test (/results), µs. */
  readonly tcpConnectMicros: Summary;
  readonly fds: number;
  readonly rtt: {
    /** Per packet, from the agent's kconmon_udp_rtt_seconds buckets (interpolated inside a bucket). */
    readonly agentHistogram: Summary;
    /** Per probe (mean of its 5 packets), from the agent's /results at the end of the window: one per peer. */
    readonly agentResults: Summary;
    /** Per packet, the minimal client over the whole window. */
    readonly client: Summary & { readonly sent: number; readonly lost: number };
    readonly ping: PingResult | undefined;
  };
  readonly syntheticPeers: { readonly cpuMillicores: number; readonly stats: SyntheticPeersStats };
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const { group, proc, log } = options;
  const schedule = agentDefaultSchedule();
  const { defaults, meanPeriodMs } = schedule;
  if (defaults.tcp.interval !== defaults.udp.interval) throw new Error('bench assumes equal default UDP and TCP intervals');
  const plan = addressPlan(options.peers);
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-agent-'));
  options.tempDirs.add(dir);
  const deadlineMs = (options.warmupSeconds + options.windowSeconds + 120) * 1000;
  const started: Array<{ stop: () => Promise<void> }> = [];
  let keepDir = false;

  try {
    // 1. The synthetic peers: every address bound before the agent starts, so its first probes find them.
    const syntheticPeers = await startSyntheticPeers({
      group,
      plan,
      port: options.port,
      bidirectional: options.mode === 'bidirectional',
      schedule,
      deadlineMs,
    });
    started.push({ stop: syntheticPeers.stop });
    const peers = syntheticPeers.control;
    const peersPid = syntheticPeers.pid;

    // 2. The agent.
    const agent: AgentProcess = await startAgentProcess({
      group,
      dir,
      plan,
      port: options.port,
      deadlineMs,
      cpuProfileDir: options.cpuProfileDir,
      entry: options.agentEntry,
      nodeFlags: options.agentNodeFlags,
    });
    started.push({ stop: agent.stop });
    peers.send({ type: 'start' });

    // 3. The minimal client, on the same path (to the same echo process) for the whole run.
    const clientConfig: UdpClientConfig = {
      bind: plan.client,
      port: options.port,
      targets: plan.peers.slice(0, 5),
      ratePerSecond: 20,
      timeoutMs: defaults.udp.timeout,
      deadlineMs,
    };
    const clientChild = group.fork(UDP_CLIENT, [JSON.stringify(clientConfig)]);
    const clientPid = clientChild.pid as number;
    started.push({ stop: () => group.stop(clientChild) });
    const client = controlChannel(clientChild, 'udp client');
    await client.ready(10_000);

    log(`  warm-up ${options.warmupSeconds} s (agent pid ${agent.pid}, synthetic peers pid ${peersPid}, logs in ${dir})`);
    await sleep(options.warmupSeconds * 1000);
    if (!agent.alive()) throw new Error(`agent died during warm-up (${agent.exit()}):\n${agent.logTail()}`);

    // 4. The window. Scrapes happen outside the CPU window (before its start, after its end).
    const m0 = await agent.metrics();
    peers.send({ type: 'reset' });
    client.send({ type: 'reset' });
    const window = openWindow(proc, agent.pid, [peersPid, clientPid]);
    started.push({ stop: async () => window.abandon() });
    const pingTarget = plan.peers[Math.max(0, Math.min(5, plan.peers.length - 1))] as string;
    const ping = plan.peers.length > 0 ? sleep(Math.min(5, options.windowSeconds / 4) * 1000).then(() => runPing(pingTarget)) : Promise.resolve(undefined);
    const drops0 = proc.udpDrops(plan.agent, agent.pid);
    const windowScrapes = { count: 0, slowestMs: 0 };
    const scrapeEvery = options.scrapeEverySeconds ?? 0;
    const scraper =
      scrapeEvery > 0
        ? setInterval(() => {
            const started = performance.now();
            void agent.metrics().then(
              () => {
                windowScrapes.count++;
                windowScrapes.slowestMs = Math.max(windowScrapes.slowestMs, performance.now() - started);
              },
              () => {},
            );
          }, scrapeEvery * 1000)
        : undefined;
    log(`  measuring ${options.windowSeconds} s${scrapeEvery > 0 ? `, scraping every ${scrapeEvery} s` : ''}`);
    await sleep(options.windowSeconds * 1000);
    clearInterval(scraper);
    const drops1 = proc.udpDrops(plan.agent, agent.pid);
    if (!agent.alive()) throw new Error(`agent died during the window (${agent.exit()}):\n${agent.logTail()}`);
    const measured = window.close();
    const { cpu, memory, millicores } = measured;
    const [peersCpu, clientCpu] = measured.others as [number, number];
    const peerStats = await peers.stats<SyntheticPeersStats>(10_000);
    const clientStats = await client.stats<UdpClientStats>(10_000);
    const m1 = await agent.metrics();
    const results = await agent.results();
    const pingResult = await ping;
    // The cost of a Prometheus scrape, kept out of the window above: CPU over a few back-to-back scrapes.
    const SCRAPES = 5;
    const scrapeStart = proc.cpu(agent.pid);
    for (let index = 0; index < SCRAPES; index++) await agent.metrics();
    const scrapeEnd = proc.cpu(agent.pid);
    const scrapeCpuMs = ((cpuSeconds(scrapeEnd) - cpuSeconds(scrapeStart)) / SCRAPES) * 1000;
    if (!agent.alive()) throw new Error(`agent died during the window (${agent.exit()}):\n${agent.logTail()}`);

    const windowSeconds = measured.seconds;
    const counterWindowSeconds = (m1.at - m0.at) / 1000;
    const delta = (scrape0: Scrape, scrape1: Scrape, name: string, filter: Record<string, string> = {}) =>
      sum(scrape1, name, filter) - sum(scrape0, name, filter);
    const count = (name: string): ProbeCount => ({
      passed: delta(m0.scrape, m1.scrape, name, { result: 'pass' }),
      failed: delta(m0.scrape, m1.scrape, name, { result: 'fail' }),
    });
    const rttBuckets = bucketDelta(m0.scrape, m1.scrape, 'kconmon_udp_rtt_seconds');
    const observed = rttBuckets.at(-1)?.[1] ?? 0;
    const resultAverages = results.latest
      .filter((entry) => entry.test === 'udp' && typeof entry.summary.averageMs === 'number')
      .map((entry) => (entry.summary.averageMs as number) * 1000);

    return {
      peers: options.peers,
      mode: options.mode,
      windowSeconds,
      counterWindowSeconds,
      meanPeriodSeconds: meanPeriodMs / 1000,
      agent: {
        cpuMillicores: millicores(cpuSeconds(cpu)),
        userMillicores: millicores(cpu.user),
        systemMillicores: millicores(cpu.system),
        mainThreadMillicores: millicores(cpu.mainThread),
        rssMeanMiB: memory.meanBytes / MiB,
        rssMaxMiB: memory.maxBytes / MiB,
        rssAnonMaxMiB: memory.maxAnonymousBytes / MiB,
        // Sub-millisecond samples taken as probe packets are sent (src/metrics/event-loop-lag.ts), since the last scrape.
        eventLoopLagP99Ms: value(m1.scrape, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        heapUsedMiB: value(m1.scrape, 'nodejs_heap_size_used_bytes') / MiB,
        newSpaceMiB: sum(m1.scrape, 'nodejs_heap_space_size_total_bytes', { space: 'new' }) / MiB,
        metricsBytes: m1.bytes,
        scrapeCpuMs,
      },
      hostOtherMillicores: millicores(measured.hostBusySeconds - cpuSeconds(cpu) - peersCpu - clientCpu),
      expectedPerTest: (options.peers * counterWindowSeconds * 1000) / meanPeriodMs,
      udp: {
        ...count('kconmon_udp_results_total'),
        packetsSent: delta(m0.scrape, m1.scrape, 'kconmon_udp_packets_sent_total'),
        packetsReceived: delta(m0.scrape, m1.scrape, 'kconmon_udp_packets_received_total'),
        late: delta(m0.scrape, m1.scrape, 'kconmon_udp_packets_late_total'),
      },
      tcp: count('kconmon_tcp_results_total'),
      agentEchoed: delta(m0.scrape, m1.scrape, 'kconmon_udp_echo_requests_total', { result: 'echoed' }),
      failedSinceStart: {
        udp: sum(m1.scrape, 'kconmon_udp_results_total', { result: 'fail' }),
        tcp: sum(m1.scrape, 'kconmon_tcp_results_total', { result: 'fail' }),
        udpUnmeasured: sum(m1.scrape, 'kconmon_udp_packets_unmeasured_total'),
      },
      kernelDrops: { window: drops1 - drops0, total: drops1 },
      windowScrapes,
      tcpConnectMicros: summarise(
        results.latest
          .filter((entry) => entry.test === 'tcp' && typeof entry.summary.connectMs === 'number')
          .map((entry) => (entry.summary.connectMs as number) * 1000),
      ),
      fds: proc.fdCount(agent.pid),
      rtt: {
        agentHistogram: { count: observed, p50: histogramQuantile(rttBuckets, 0.5) * 1e6, p99: histogramQuantile(rttBuckets, 0.99) * 1e6, max: Number.NaN },
        agentResults: summarise(resultAverages),
        client: { ...summarise(clientStats.rttMicros), sent: clientStats.sent, lost: clientStats.lost },
        ping: pingResult,
      },
      syntheticPeers: { cpuMillicores: millicores(peersCpu), stats: peerStats },
    };
  } catch (error) {
    keepDir = true;
    throw error;
  } finally {
    // Stop in reverse order (client, agent, peers) so the agent never probes vanished peers while stopping.
    for (const entry of started.reverse()) await entry.stop();
    options.tempDirs.delete(dir);
    if (!keepDir) await rm(dir, { recursive: true, force: true });
    else log(`  kept ${dir} for inspection`);
  }
}

/** The newest V8 CPU profile in a directory (written by the agent when it exits). */
export async function newestProfile(dir: string): Promise<string | undefined> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile')).sort();
  return files.length > 0 ? join(dir, files.at(-1) as string) : undefined;
}
