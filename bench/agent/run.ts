// `npm run bench:agent`: one kconmon agent probing N synthetic peers on loopback, outbound-only and bidirectional, for
// each N; prints markdown tables (CPU, RSS, probe rate, UDP RTT next to a minimal client and ping) and writes them to
// the "## Agent" section of docs/benchmarks.md. Every child process is stopped on exit, error, signal or deadline.
import { mkdtemp } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChildGroup } from './children.ts';
import { createProcReader } from '../../harness/proc-stats.ts';
import { addressPlan } from './addresses.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { HelpRequested, USAGE, parseOptions, type BenchOptions } from './options.ts';
import { newestProfile, runScenario, type ScenarioResult } from './scenario.ts';
import { describeMachine } from './machine.ts';
import { loadTable, peersTable, proberFloor, renderSection, rttTable, targetList, targets } from './report.ts';
import { writeSection } from '../common/docs-section.ts';
import { formatProfile, summariseProfileFile } from './profile-summary.ts';
import { buildProductionCli as buildAgent, type ProductionBuild as AgentBuild } from '../../harness/production-build.ts';
import { waitForQuietHost } from './quiet-host.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    console.error(`bench:agent needs Node ≥ 24 (this is ${process.version}); run it with node_modules/.bin/node or npm run`);
    return 2;
  }
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(USAGE);
      return 0;
    }
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const group = createChildGroup();
  const proc = createProcReader();
  const log = (line: string) => console.log(line);
  process.on('exit', () => group.killNow());
  const tempDirs = new Set<string>();
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the benchmark's processes`);
    void group.stopAll(1000).finally(() => {
      for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const configurations = options.peers.flatMap((peers) => options.modes.map((mode) => ({ peers, mode })));
  const budgetSeconds = configurations.length * (options.settleSeconds + options.warmupSeconds + options.windowSeconds + 90) + 240;
  const deadline = setTimeout(() => {
    console.error(`bench:agent: over its ${budgetSeconds} s budget; killing everything`);
    group.killNow();
    process.exit(1);
  }, budgetSeconds * 1000);

  let build: AgentBuild | undefined;
  try {
    if (options.agentEntry === 'dist') {
      log('bench:agent: compiling src/ with tsconfig.build.json into a temporary directory');
      build = await buildAgent();
    }
    const largest = addressPlan(Math.max(...options.peers));
    const port = options.port || (await findSharedPort([largest.agent, largest.client, ...largest.peers.slice(0, 3), largest.peers.at(-1) as string]));
    log(`bench:agent: ${configurations.length} configuration(s), ${options.warmupSeconds} s warm-up + ${options.windowSeconds} s window each, port ${port}`);
    const results: ScenarioResult[] = [];
    for (const { peers, mode } of configurations) {
      log(`\nN = ${peers}, ${mode}`);
      if (options.settleSeconds > 0) await waitForQuietHost(proc, { maxWaitSeconds: options.settleSeconds, busyMillicores: 300, log });
      const cpuProfileDir = options.cpuProfile ? await mkdtemp(join(tmpdir(), 'kconmon-bench-prof-')) : undefined;
      const result = await runScenario({ peers, mode, windowSeconds: options.windowSeconds, warmupSeconds: options.warmupSeconds, port, group, proc, cpuProfileDir, log, tempDirs,
        agentEntry: build?.entry ?? (options.agentEntry === 'src' ? undefined : options.agentEntry),
        agentNodeFlags: options.agentNodeFlags,
      });
      results.push(result);
      log(`  agent ${result.agent.cpuMillicores.toFixed(1)} millicores, RSS max ${result.agent.rssMaxMiB.toFixed(1)} MiB, UDP ${result.udp.passed + result.udp.failed} / TCP ${result.tcp.passed + result.tcp.failed} probes (expected ${result.expectedPerTest.toFixed(0)} each)`);
      if (cpuProfileDir) {
        const file = await newestProfile(cpuProfileDir);
        if (file) log(`  agent CPU profile (whole run, incl. start-up and warm-up): ${file}\n${formatProfile(await summariseProfileFile(file, 20))}`);
        else log(`  no CPU profile found in ${cpuProfileDir}`);
      }
    }

    const machine = describeMachine();
    log(`\n### Agent load\n\n${loadTable(results)}\n\n### UDP round-trip time (µs)\n\n${rttTable(results)}\n\n### Load generator\n\n${peersTable(results)}\n\n### Targets\n\n${targetList(targets(results))}\n${proberFloor(results).join('\n')}`);
    if (options.docs) {
      const command = argv.length > 0 ? `npm run bench:agent -- ${argv.join(' ')}` : 'npm run bench:agent';
      const path = resolve(REPO, options.docs);
      const entry = options.agentEntry === 'dist' ? 'compiled dist/cli.js' : options.agentEntry === 'src' ? 'src/cli.ts (type stripping)' : options.agentEntry;
      const agent = `${entry}${options.agentNodeFlags.length ? ` with ${options.agentNodeFlags.join(' ')}` : ''}`;
      await writeSection(path, '## Agent', renderSection({ command, machine, agent, windowSeconds: options.windowSeconds, warmupSeconds: options.warmupSeconds, results }));
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

// Exit explicitly: an aborted run may leave timers or keep-alive sockets behind, and the children are already stopped.
process.exit(await main(process.argv.slice(2)));
