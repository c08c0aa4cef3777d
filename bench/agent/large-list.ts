// `npm run bench:agent:list`: one agent given a peers file of probing.maxPeers peers, then one of thousands (5,000 by
// default), alternated run by run: its CPU and RSS, its series, and whether the synthetic peers saw exactly its row of
// the selection probed; prints a markdown table and writes it to a section of docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addressPlan, MAX_PEERS } from './addresses.ts';
import { BENCH_AGENT_NODE, startAgentProcess, syntheticPeerList, type AgentProcess } from './agent-process.ts';
import { exitAfterBudget, stopAndRemove, stopChildrenOnExit, createChildGroup, type ChildGroup } from '../../harness/child-group.ts';
import { describeMachine } from './machine.ts';
import { openWindow } from './measurement-window.ts';
import { waitForQuietHost } from './quiet-host.ts';
import type { SyntheticPeersStats } from './synthetic-peers.ts';
import { agentDefaultSchedule, startSyntheticPeers } from './synthetic-peers-process.ts';
import { HelpRequested, integerOption, readCommandLine } from '../common/command-line.ts';
import { writeSection } from '../common/docs-section.ts';
import { createProcReader, cpuSeconds, type ProcReader } from '../../harness/proc-stats.ts';
import { sampleSum, sampleValue } from '../../harness/exposition.ts';
import { buildProductionCli, type ProductionBuild } from '../../harness/production-build.ts';
import { DEFAULT_MAX_PEERS, peersOf, selectPeers } from '../../src/topology/peer-selection.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 1024 * 1024;
const SECTION = '## Agent with a 5,000-node list';
/** Per-pair series created at their first occurrence (src/topology/series-model.ts: not in the 11 per peer). */
const FAULT_SERIES = /^kconmon_(udp_packets_(late|duplicate|unmeasured)_total|tcp_unmeasured_total|tcp_failures_total)$/;

const USAGE = `usage: node bench/agent/large-list.ts [options]
  --list 5000          peers in the large list (${DEFAULT_MAX_PEERS + 2}..${MAX_PEERS}); the small list has probing.maxPeers (${DEFAULT_MAX_PEERS}) peers
  --rounds 2           runs of each configuration, alternated (small, large, small, large, …)
  --window 60          measured window per run, seconds (10..600)
  --warmup 20          warm-up before the window, seconds (5..300)
  --settle 60          before each run, wait up to this long for a quiet host (0: don't)
  --agent-entry bundle bundle: the esbuild bundle the image runs; src: node src/cli.ts
  --docs docs/benchmarks.md   markdown file whose "${SECTION}" section is (re)written
  --no-docs            print only
`;

interface Options {
  readonly list: number;
  readonly rounds: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly settleSeconds: number;
  readonly agentEntry: 'bundle' | 'src';
  readonly docs: string | undefined;
}

interface Run {
  readonly listed: number;
  readonly round: number;
  readonly cpuMillicores: number;
  readonly rssMeanMiB: number;
  readonly rssMaxMiB: number;
  readonly heapUsedMiB: number;
  readonly hostOtherMillicores: number;
  /** The agent's own figures from /metrics at the end of the window. */
  readonly agentPeers: number;
  readonly agentListedPeers: number;
  readonly series: number;
  /** Of those, series that appear only once something went wrong (late, duplicate or unmeasured packets, failures). */
  readonly faultSeries: number;
  readonly metricsBytes: number;
  readonly udpResults: number;
  readonly udpFailed: number;
  /** Addresses the synthetic peers saw probed by the agent in the window, and the selection computed here. */
  readonly probed: number;
  readonly expected: number;
  readonly unexpectedlyProbed: readonly string[];
  readonly notProbed: readonly string[];
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      list: { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '2' },
      window: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '20' },
      settle: { type: 'string', default: '60' },
      'agent-entry': { type: 'string', default: 'bundle' },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) throw new HelpRequested();
  const entry = values['agent-entry'];
  if (entry !== 'bundle' && entry !== 'src') throw new Error(`--agent-entry: "${entry}" is not bundle or src`);
  return {
    list: integerOption(values.list, '--list', DEFAULT_MAX_PEERS + 2, MAX_PEERS),
    rounds: integerOption(values.rounds, '--rounds', 1, 10),
    windowSeconds: integerOption(values.window, '--window', 10, 600),
    warmupSeconds: integerOption(values.warmup, '--warmup', 5, 300),
    settleSeconds: integerOption(values.settle, '--settle', 0, 600),
    agentEntry: entry,
    docs: values['no-docs'] ? undefined : values.docs,
  };
}

/** The addresses the agent should probe given `listed` peers: its row of the selection the agent computes. */
function expectedTargets(listed: number): Set<string> {
  const plan = addressPlan(listed);
  const peers = syntheticPeerList(plan);
  const ipOf = new Map(peers.map((peer) => [peer.nodeName, peer.ip] as const));
  const nodes = [...peers.map((peer) => ({ name: peer.nodeName, zone: peer.zone })), { ...BENCH_AGENT_NODE }];
  const assignment = selectPeers(nodes, { maxPeers: DEFAULT_MAX_PEERS });
  return new Set(peersOf(assignment, BENCH_AGENT_NODE.name).map((name) => ipOf.get(name) as string));
}

interface RunContext {
  readonly group: ChildGroup;
  readonly proc: ProcReader;
  readonly port: number;
  readonly entry: string | undefined;
  readonly options: Options;
  readonly tempDirs: Set<string>;
  readonly log: (line: string) => void;
}

async function runOnce(context: RunContext, listed: number, round: number): Promise<Run> {
  const { group, proc, port, options, log } = context;
  const plan = addressPlan(listed);
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-list-'));
  context.tempDirs.add(dir);
  const deadlineMs = (options.warmupSeconds + options.windowSeconds + 180) * 1000;
  const stops: Array<() => Promise<void>> = [];
  try {
    const schedule = agentDefaultSchedule();
    const syntheticPeers = await startSyntheticPeers({ group, plan, port, bidirectional: false, schedule, deadlineMs, readyTimeoutMs: 60_000 });
    stops.push(syntheticPeers.stop);
    const peers = syntheticPeers.control;

    const agent: AgentProcess = await startAgentProcess({ group, dir, plan, port, deadlineMs, entry: context.entry, maxPeers: DEFAULT_MAX_PEERS });
    stops.push(agent.stop);
    log(`  list of ${listed}, round ${round}: warm-up ${options.warmupSeconds} s (agent pid ${agent.pid})`);
    await sleep(options.warmupSeconds * 1000);
    if (!agent.alive()) throw new Error(`agent died during warm-up (${agent.exit()}):\n${agent.logTail()}`);

    const m0 = await agent.metrics();
    peers.send({ type: 'reset' });
    const window = openWindow(proc, agent.pid, [syntheticPeers.pid]);
    await sleep(options.windowSeconds * 1000);
    const { cpu, others, hostBusySeconds, memory, millicores } = window.close();
    if (!agent.alive()) throw new Error(`agent died during the window (${agent.exit()}):\n${agent.logTail()}`);
    const stats = await peers.stats<SyntheticPeersStats>(30_000);
    const m1 = await agent.metrics();

    const agentCpuSeconds = cpuSeconds(cpu);
    const peersCpuSeconds = others[0] as number;
    const expected = expectedTargets(listed);
    const probed = new Set(stats.probedByAgent);
    const udp = (scrape: typeof m0.scrape, result: string) => sampleSum(scrape, 'kconmon_udp_results_total', { result });
    return {
      listed,
      round,
      cpuMillicores: millicores(agentCpuSeconds),
      rssMeanMiB: memory.meanBytes / MiB,
      rssMaxMiB: memory.maxBytes / MiB,
      heapUsedMiB: sampleValue(m1.scrape, 'nodejs_heap_size_used_bytes') / MiB,
      hostOtherMillicores: millicores(hostBusySeconds - agentCpuSeconds - peersCpuSeconds),
      agentPeers: sampleValue(m1.scrape, 'kconmon_agent_peers'),
      agentListedPeers: sampleValue(m1.scrape, 'kconmon_agent_listed_peers'),
      series: m1.scrape.length,
      faultSeries: m1.scrape.filter((sample) => FAULT_SERIES.test(sample.name)).length,
      metricsBytes: m1.bytes,
      udpResults: udp(m1.scrape, 'pass') + udp(m1.scrape, 'fail') - udp(m0.scrape, 'pass') - udp(m0.scrape, 'fail'),
      udpFailed: udp(m1.scrape, 'fail') - udp(m0.scrape, 'fail'),
      probed: probed.size,
      expected: expected.size,
      unexpectedlyProbed: [...probed].filter((address) => !expected.has(address)),
      notProbed: [...expected].filter((address) => !probed.has(address)),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    context.tempDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** A paragraph as lines of at most `width` characters (the docs keep lines short). */
function wrap(text: string, width = 120): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function report(runs: readonly Run[], small: number, large: number): string {
  const lines = [
    '| run | peers listed | probed (agent_peers) | probed = selection | agent CPU (millicores) | RSS mean / max (MiB) | V8 heap used (MiB) | series (of which fault-time) | /metrics | UDP tests (failed) | other work on the host (millicores) |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const run of runs) {
    const exact = run.unexpectedlyProbed.length === 0 && run.notProbed.length === 0;
    lines.push(
      `| ${run.round} | ${run.listed.toLocaleString('en-US')} | ${run.probed} (${run.agentPeers}) | ${exact ? `yes (${run.expected} of ${run.expected})` : `**no**: ${run.unexpectedlyProbed.length} unexpected, ${run.notProbed.length} missing`} | ` +
        `${fixed(run.cpuMillicores)} | ${fixed(run.rssMeanMiB)} / ${fixed(run.rssMaxMiB)} | ${fixed(run.heapUsedMiB)} | ${run.series} (${run.faultSeries}) | ${fixed(run.metricsBytes / 1024)} KiB | ` +
        `${run.udpResults} (${run.udpFailed}) | ${fixed(run.hostOtherMillicores, 0)} |`,
    );
  }
  const of = (listed: number) => runs.filter((run) => run.listed === listed);
  const summary = (listed: number) => {
    const chosen = of(listed);
    return { cpu: mean(chosen.map((run) => run.cpuMillicores)), rss: Math.max(...chosen.map((run) => run.rssMaxMiB)) };
  };
  const [a, b] = [summary(small), summary(large)];
  const allExact = runs.every((run) => run.unexpectedlyProbed.length === 0 && run.notProbed.length === 0);
  lines.push(
    '',
    wrap(
      `Mean agent CPU: ${fixed(a.cpu)} millicores with ${small} listed, ${fixed(b.cpu)} with ${large.toLocaleString('en-US')} listed ` +
        `(ratio ${fixed(b.cpu / a.cpu, 2)}); RSS max ${fixed(a.rss)} MiB and ${fixed(b.rss)} MiB (ratio ${fixed(b.rss / a.rss, 2)}).`,
    ),
    '',
    `- ${allExact ? '**PASS**' : '**FAIL**'} the synthetic peers saw exactly the selected peers probed, in every run`,
    `- ${b.cpu <= 20 ? '**PASS**' : '**FAIL**'} agent CPU ≤ 20 millicores with ${large.toLocaleString('en-US')} listed: ${fixed(b.cpu)}`,
    `- ${b.rss <= 72 ? '**PASS**' : '**FAIL**'} agent RSS ≤ 72 MiB with ${large.toLocaleString('en-US')} listed: max ${fixed(b.rss)}`,
  );
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const options = readCommandLine('bench:agent:list', USAGE, () => parseOptions(argv));
  if (typeof options === 'number') return options;
  const group = createChildGroup();
  const proc = createProcReader();
  const log = (line: string) => console.log(line);
  const tempDirs = new Set<string>();
  stopChildrenOnExit(group, "the benchmark's processes", stopAndRemove(group, tempDirs));
  const budgetSeconds = options.rounds * 2 * (options.settleSeconds + options.warmupSeconds + options.windowSeconds + 120) + 300;
  const deadline = exitAfterBudget(group, 'bench:agent:list', budgetSeconds);

  let build: ProductionBuild | undefined;
  try {
    if (options.agentEntry === 'bundle') {
      log('bench:agent:list: bundling the CLI as the image does');
      build = await buildProductionCli('bundle');
    }
    const largest = addressPlan(options.list);
    const port = await findSharedPort([largest.agent, ...largest.peers.slice(0, 3), largest.peers.at(-1) as string]);
    const context: RunContext = { group, proc, port, entry: build?.entry, options, tempDirs, log };
    const small = DEFAULT_MAX_PEERS;
    const runs: Run[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const listed of [small, options.list]) {
        if (options.settleSeconds > 0) await waitForQuietHost(proc, { maxWaitSeconds: options.settleSeconds, busyMillicores: 300, log });
        const run = await runOnce(context, listed, round);
        runs.push(run);
        log(
          `    agent ${fixed(run.cpuMillicores)} millicores, RSS max ${fixed(run.rssMaxMiB)} MiB, probed ${run.probed} (expected ${run.expected}; ` +
            `${run.unexpectedlyProbed.length} unexpected, ${run.notProbed.length} missing), ${run.series} series`,
        );
      }
    }
    const body = report(runs, small, options.list);
    log(`\n${body}`);
    if (options.docs) {
      const machine = describeMachine();
      const command = argv.length > 0 ? `npm run bench:agent:list -- ${argv.join(' ')}` : 'npm run bench:agent:list';
      const entry = options.agentEntry === 'bundle' ? 'the esbuild bundle the image runs' : 'src/cli.ts (type stripping)';
      const setup = [
        `Command: \`${command}\` (\`bench/agent/large-list.ts\`). Machine: ${machine.cpus} CPUs (${machine.model}), ` +
          `Node ${machine.node}, Linux ${machine.kernel}; run ${machine.date}. The host is shared with other work (its CPU is ` +
          `in the last column): compare the two configurations side by side, run by run, not with figures from other runs.`,
        `One agent (${entry}), default configuration except DNS (off): \`probing.maxPeers\` ${DEFAULT_MAX_PEERS}. It is given a ` +
          `peers file of ${DEFAULT_MAX_PEERS} (N = budget: a full mesh of ${DEFAULT_MAX_PEERS} peers) or ${options.list.toLocaleString('en-US')} ` +
          `synthetic peers over 3 zones (then it probes its own row of the selection). One process of synthetic peers answers ` +
          `UDP and \`GET /readiness\` on every listed loopback address and records which addresses the agent probed in the ` +
          `window; the benchmark computes the selection from the same list (\`selectPeers\`) and compares. Runs alternate, ` +
          `${options.warmupSeconds} s warm-up then ${options.windowSeconds} s measured; CPU is utime + stime from /proc over the window, ` +
          `RSS sampled every second. "series" counts the samples of the agent's /metrics at the end of the window; in brackets, ` +
          `those that exist only once something went wrong (unmeasured packets and tests after a stall of the agent's event ` +
          `loop — frequent on a loaded host —, late or duplicate echoes, TCP failures), which the 11 per peer of the series ` +
          `model leave out.`,
      ];
      const text = `${SECTION}\n\n${setup.map((paragraph) => wrap(paragraph)).join('\n\n')}\n\n${body}\n`;
      await writeSection(resolve(REPO, options.docs), SECTION, text);
      log(`\nwrote the "${SECTION}" section of ${options.docs}`);
    }
    return 0;
  } catch (error) {
    console.error(`bench:agent:list failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    clearTimeout(deadline);
    await group.stopAll();
    await build?.remove();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

process.exit(await main(process.argv.slice(2)));
