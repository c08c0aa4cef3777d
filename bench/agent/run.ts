// `npm run bench:agent`: one kconmon agent probing N synthetic peers on loopback, outbound-only and bidirectional, for
// each N; prints markdown tables (CPU, RSS, probe rate, UDP RTT next to a minimal client and ping) and writes them to
// the "## Agent" section of docs/benchmarks.md. Every child process is stopped on exit, error, signal or deadline.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitAfterBudget, stopAndRemove, stopChildrenOnExit, createChildGroup } from '../../harness/child-group.ts';
import { createProcReader } from '../../harness/proc-stats.ts';
import { addressPlan } from './addresses.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { USAGE, parseOptions } from './options.ts';
import { readCommandLine } from '../common/command-line.ts';
import { newestProfile, runScenario, type ScenarioResult } from './scenario.ts';
import { describeMachine } from './machine.ts';
import { accuracyTable, comparisonTable, loadTable, peersTable, proberFloor, renderSection, rttTable, targetList, targets } from './report.ts';
import { runNaiveScenario, type NaiveResult } from './naive-scenario.ts';
import { runSoak, soakTable } from './soak.ts';
import { writeSection } from '../common/docs-section.ts';
import { formatProfile, summariseProfileFile } from './profile-summary.ts';
import { buildProductionCli as buildAgent, type ProductionBuild as AgentBuild } from '../../harness/production-build.ts';
import { waitForQuietHost } from './quiet-host.ts';
import { missingRuntimeFlags } from '../../src/util/runtime-flags.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const options = readCommandLine('bench:agent', USAGE, () => parseOptions(argv));
  if (typeof options === 'number') return options;

  const group = createChildGroup();
  const proc = createProcReader();
  const log = (line: string) => console.log(line);
  const tempDirs = new Set<string>();
  stopChildrenOnExit(group, "the benchmark's processes", stopAndRemove(group, tempDirs));

  const configurations = options.peers.flatMap((peers) => options.modes.map((mode) => ({ peers, mode })));
  const perRun = options.settleSeconds + options.warmupSeconds + options.windowSeconds + 90;
  const budgetSeconds =
    options.soakMinutes > 0 ? options.soakMinutes * 60 + 600 : configurations.length * perRun + (options.naive ? options.peers.length * perRun : 0) + 240;
  const deadline = exitAfterBudget(group, 'bench:agent', budgetSeconds);

  let build: AgentBuild | undefined;
  try {
    if (options.agentEntry === 'dist' || options.agentEntry === 'bundle') {
      log(
        options.agentEntry === 'dist'
          ? 'bench:agent: compiling src/ with tsconfig.build.json into a temporary directory'
          : 'bench:agent: bundling the CLI as the image does',
      );
      build = await buildAgent(options.agentEntry === 'dist' ? 'tsc' : 'bundle');
    }
    const largest = addressPlan(Math.max(1, ...options.peers));
    const port = options.port || (await findSharedPort([largest.agent, largest.client, ...largest.peers.slice(0, 3), largest.peers.at(-1) as string]));
    if (options.soakMinutes > 0) {
      const peers = options.peers[0] as number;
      const soak = await runSoak({
        peers,
        minutes: options.soakMinutes,
        scrapeSeconds: options.soakScrapeSeconds,
        port,
        group,
        proc,
        log,
        tempDirs,
        agentEntry: build?.entry ?? (options.agentEntry === 'src' ? undefined : options.agentEntry),
        agentNodeFlags: options.agentNodeFlags,
      });
      const body = soakTable(soak);
      log(`\n${body}`);
      if (options.docs) {
        const command = `npm run bench:agent -- ${argv.join(' ')}`;
        const machine = describeMachine();
        const header = `Command: \`${command}\`. Machine: ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, Linux ${machine.kernel}; run ${machine.date}.`;
        await writeSection(resolve(REPO, options.docs), '## Agent soak', `## Agent soak\n\n${header}\n\nN = ${peers} synthetic peers, outbound.\n\n${body}\n`);
        log(`\nwrote the "## Agent soak" section of ${options.docs}`);
      }
      return 0;
    }
    log(`bench:agent: ${configurations.length} configuration(s), ${options.warmupSeconds} s warm-up + ${options.windowSeconds} s window each, port ${port}`);
    const results: ScenarioResult[] = [];
    const naive: NaiveResult[] = [];
    for (const { peers, mode } of configurations) {
      log(`\nN = ${peers}, ${mode}`);
      if (options.settleSeconds > 0) await waitForQuietHost(proc, { maxWaitSeconds: options.settleSeconds, busyMillicores: 300, log });
      const cpuProfileDir = options.cpuProfile ? await mkdtemp(join(tmpdir(), 'kconmon-bench-prof-')) : undefined;
      const result = await runScenario({
        peers,
        mode,
        windowSeconds: options.windowSeconds,
        warmupSeconds: options.warmupSeconds,
        port,
        group,
        proc,
        cpuProfileDir,
        log,
        tempDirs,
        agentEntry: build?.entry ?? (options.agentEntry === 'src' ? undefined : options.agentEntry),
        agentNodeFlags: options.agentNodeFlags,
        scrapeEverySeconds: options.scrapeEverySeconds,
      });
      results.push(result);
      log(
        `  agent ${result.agent.cpuMillicores.toFixed(1)} millicores, RSS max ${result.agent.rssMaxMiB.toFixed(1)} MiB, UDP ${result.udp.passed + result.udp.failed} / TCP ${result.tcp.passed + result.tcp.failed} probes (expected ${result.expectedPerTest.toFixed(0)} each)`,
      );
      if (cpuProfileDir) {
        const file = await newestProfile(cpuProfileDir);
        if (file) log(`  agent CPU profile (whole run, incl. start-up and warm-up): ${file}\n${formatProfile(await summariseProfileFile(file, 20))}`);
        else log(`  no CPU profile found in ${cpuProfileDir}`);
      }
      if (options.naive && mode === options.modes[0]) {
        if (options.settleSeconds > 0) await waitForQuietHost(proc, { maxWaitSeconds: options.settleSeconds, busyMillicores: 300, log });
        const entry = await runNaiveScenario({
          peers,
          windowSeconds: options.windowSeconds,
          warmupSeconds: options.warmupSeconds,
          port,
          group,
          proc,
          nodeFlags: naiveFlags(options.agentNodeFlags),
          log,
        });
        naive.push(entry);
        log(`  naive prober ${entry.cpuMillicores.toFixed(1)} millicores, RSS max ${entry.rssMaxMiB.toFixed(1)} MiB`);
      }
    }

    const machine = describeMachine();
    if (naive.length > 0) log(`\n### Agent next to the naive prober\n\n${comparisonTable(results, naive)}`);
    log(`\n### Accuracy\n\n${accuracyTable(results, naive)}`);
    log(
      `\n### Agent load\n\n${loadTable(results)}\n\n### UDP round-trip time (µs)\n\n${rttTable(results)}\n\n### Load generator\n\n${peersTable(results)}\n\n### Targets\n\n${targetList(targets(results, naive))}\n${proberFloor(results).join('\n')}`,
    );
    if (options.docs) {
      const command = argv.length > 0 ? `npm run bench:agent -- ${argv.join(' ')}` : 'npm run bench:agent';
      const path = resolve(REPO, options.docs);
      const entry =
        options.agentEntry === 'bundle'
          ? 'the esbuild bundle the image runs (scripts/image/bundle.ts)'
          : options.agentEntry === 'dist'
            ? 'compiled dist/cli.js (tsc)'
            : options.agentEntry === 'src'
              ? 'src/cli.ts (type stripping)'
              : options.agentEntry;
      const flags = naiveFlags(options.agentNodeFlags);
      const agent = `${entry}${flags.length ? ` running with ${flags.join(' ')} (its own runtime flags${options.agentNodeFlags.length ? ' + --agent-flags' : ''})` : ''}`;
      await writeSection(
        path,
        '## Agent',
        renderSection({ command, machine, agent, windowSeconds: options.windowSeconds, warmupSeconds: options.warmupSeconds, results, naive }),
      );
      log(`\nwrote the "## Agent" section of ${path}`);
    }
    return 0;
  } catch (error) {
    console.error(`bench:agent failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    clearTimeout(deadline);
    await group.stopAll();
    await build?.remove();
  }
}

/** The naive prober runs with the flags the agent ends up with: its own runtime flags plus the benchmark's extras. */
function naiveFlags(agentFlags: readonly string[]): string[] {
  return [...missingRuntimeFlags(agentFlags, process.env.NODE_OPTIONS), ...agentFlags];
}

// Exit explicitly: an aborted run may leave timers or keep-alive sockets behind, and the children are already stopped.
process.exit(await main(process.argv.slice(2)));
