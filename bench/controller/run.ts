// `npm run bench:controller`: the controller at scale against a real kube-apiserver — for each N, N Nodes, N agent Pods
// and N connected (simulated) agents: controller RSS and CPU, time for a change to reach every agent (p50/p99/max) and
// the controller's API requests (which must not grow with N). Prints markdown and rewrites the "## Controller" section
// of docs/benchmarks.md. The cluster and every child process are stopped on exit, error, signal or deadline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchCluster, type BenchCluster } from './cluster.ts';
import { USAGE, parseOptions } from './options.ts';
import { readCommandLine } from '../common/command-line.ts';
import { exitAfterBudget, stopChildrenOnExit, createChildGroup } from '../../harness/child-group.ts';
import { describeMachine, renderSection, resultsTable, changesTable, verdictList, verdicts, writeSection } from './report.ts';
import { runSize, type SizeResult } from './scenario.ts';
import { findKubeBinaries } from '../../harness/kube-cluster.ts';
import { buildProductionCli, type ProductionBuild } from '../../harness/production-build.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const AGENTS_SCRIPT = fileURLToPath(new URL('./agents.ts', import.meta.url));

async function main(argv: readonly string[]): Promise<number> {
  const options = readCommandLine('bench:controller', USAGE, () => parseOptions(argv, REPO));
  if (typeof options === 'number') return options;
  const missing = findKubeBinaries().reason;
  if (missing) {
    console.error(`bench:controller needs etcd and kube-apiserver: ${missing}`);
    return 2;
  }

  const log = (line: string) => console.log(line);
  let bench: BenchCluster | undefined;
  let build: ProductionBuild | undefined;
  const group = createChildGroup();
  const cleanup = async () => {
    await group.stopAll(2000);
    await bench?.cluster.stop().catch(() => undefined);
    await build?.remove().catch(() => undefined);
  };
  stopChildrenOnExit(group, "the benchmark's processes and the cluster", cleanup);
  // Generous: set-up of 20,000 objects is a few minutes on 2 CPUs; each size adds start, connect and the window.
  const budgetSeconds = 300 + options.sizes.reduce((sum, n) => sum + n * 0.05 + options.windowSeconds + 300, 0);
  const deadline = exitAfterBudget(group, 'bench:controller', budgetSeconds, async () => bench?.cluster.stop());
  deadline.unref();

  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-controller-'));
  const machine = describeMachine();
  const command = ['npm run bench:controller', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const results: SizeResult[] = [];
  let cliEntry = options.controllerEntry;
  try {
    log(`# kconmon controller benchmark: N = ${options.sizes.join(', ')}; ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}; work dir ${dir}`);
    cliEntry = options.controllerEntry;
    if (cliEntry === 'dist') {
      build = await buildProductionCli();
      if (build.warnings) log(`(tsc reported problems but emitted the build:\n${build.warnings.split('\n').slice(0, 10).join('\n')})`);
      cliEntry = build.entry;
    } else if (cliEntry === 'src') {
      cliEntry = join(REPO, 'src', 'cli.ts');
    }
    log(`controller: ${process.execPath} ${cliEntry} controller${options.controllerFlags.length ? ` (flags ${options.controllerFlags.join(' ')})` : ''}`);
    const started = performance.now();
    bench = await startBenchCluster(dir);
    log(`kube-apiserver + etcd up in ${((performance.now() - started) / 1000).toFixed(1)} s at ${bench.cluster.server}`);
    for (const n of options.sizes) {
      results.push(await runSize({ options, bench, dir, nodeBinary: process.execPath, cliEntry, agentsScript: AGENTS_SCRIPT, group, log }, n));
    }
  } catch (error) {
    console.error(`bench:controller failed: ${(error as Error).stack ?? String(error)}`);
    console.error(`(logs kept in ${dir})`);
    await cleanup();
    return 1;
  }
  await cleanup();
  clearTimeout(deadline);

  log('');
  log(resultsTable(results));
  log('');
  log(verdictList(verdicts(results)));
  log('');
  log(changesTable(results.at(-1)!));
  if (options.docs) {
    const entry =
      options.controllerEntry === 'dist'
        ? 'a fresh tsc build of src/, as bin/kconmon.js runs it'
        : options.controllerEntry === 'src'
          ? 'src/cli.ts through type stripping'
          : `experimental CLI ${options.controllerEntry}`;
    const flags = options.controllerFlags.length ? `, Node flags ${options.controllerFlags.join(' ')}` : '';
    await writeSection(options.docs, renderSection(results, options, machine, command, `${entry}${flags}`));
    log(`\nwrote the "## Controller" section of ${options.docs}`);
  }
  if (options.keepLogs) log(`logs kept in ${dir}`);
  else await rm(dir, { recursive: true, force: true });
  return verdicts(results).every((verdict) => verdict.pass) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
