// The verdict engine's cost at scale: N agents (default 5,000) under bounded probing (each node probed by P peers),
// reporting at default rates (one UDP and one TCP test per pair and one DNS query per node every 5 s window). Prints
// reports/s, CPU time per window (record + close), heap per tracked pair and RSS — for a healthy cluster and with
// faults (a zone partition, a black-holed node, a lossy node). No timed assertions: figures for docs/design.
// usage: node bench/verdicts/run.ts [--agents 5000] [--probers 10] [--windows 12] [--zones 3]
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { summarise } from '../common/quantiles.ts';
import { createVerdictEngine, type VerdictEngine } from '../../src/verdicts/engine.ts';
import type { ProbeOutcome } from '../../src/verdicts/types.ts';
import { boundedProbes, clusterNodes, seededRandom, START_MS, WINDOW_MS, windowOutcomes, type PathFault } from '../../test/verdicts/synthetic.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '5000' },
    probers: { type: 'string', default: '10' },
    windows: { type: 'string', default: '12' },
    zones: { type: 'string', default: '3' },
  },
});
const agents = Number(values.agents);
const probers = Number(values.probers);
const windows = Number(values.windows);
const zones = Number(values.zones);

const nodes = clusterNodes(zones, Math.ceil(agents / zones)).slice(0, agents);
const random = seededRandom(1);
const probes = boundedProbes(nodes, probers, random);
const topology = { nodes, probes };

const faults: PathFault = (source, destination) => {
  if ((source.zone === 'zone-b') !== (destination.zone === 'zone-b')) return { reachable: false };
  if (source.name === 'node-1' || destination.name === 'node-1') return { reachable: false };
  if (source.name === 'node-4' || destination.name === 'node-4') return { lossRate: 0.2 };
  return undefined;
};

function measure(label: string, fault: PathFault | undefined): void {
  let engine: VerdictEngine | undefined = createVerdictEngine({ start: START_MS });
  const cpuPerWindow: number[] = [];
  const closeCpu: number[] = [];
  let outcomesPerWindow = 0;
  let verdicts = 0;
  let pairsTracked = 0;
  for (let window = 0; window < windows; window++) {
    const outcomes: ProbeOutcome[] = windowOutcomes(
      { nodes, probes, random, dnsTargets: ['kubernetes.default.svc.cluster.local'], ...(fault ? { fault } : {}) },
      window,
    );
    outcomesPerWindow = outcomes.length;
    const start = process.cpuUsage();
    for (const outcome of outcomes) engine.record(outcome);
    const recorded = process.cpuUsage(start);
    const report = engine.closeWindow(START_MS + (window + 1) * WINDOW_MS, topology);
    const total = process.cpuUsage(start);
    cpuPerWindow.push((total.user + total.system) / 1000);
    closeCpu.push((total.user + total.system - recorded.user - recorded.system) / 1000);
    pairsTracked = report.stats.pairsTracked;
  }
  // The engine's heap: used with it, minus used once it is dropped (both after a full collection).
  gc();
  const heapWith = process.memoryUsage().heapUsed;
  // Used after the measurement, so the optimiser cannot treat it as dead before it.
  verdicts = engine.verdicts().length;
  engine = undefined;
  gc();
  const engineBytes = heapWith - process.memoryUsage().heapUsed;
  const cpu = summarise(cpuPerWindow.slice(1));
  const close = summarise(closeCpu.slice(1));
  const bytesPerPair = engineBytes / pairsTracked;
  console.log(
    `${label.padEnd(8)} reports/s ${(outcomesPerWindow / (WINDOW_MS / 1000)).toFixed(0).padStart(7)}  ` +
      `CPU per ${WINDOW_MS / 1000} s window p50 ${cpu.p50.toFixed(0)} ms, max ${cpu.max.toFixed(0)} ms (close p50 ${close.p50.toFixed(0)} ms) = ` +
      `${((cpu.p50 / WINDOW_MS) * 1000).toFixed(0)} millicores  ` +
      `pairs ${pairsTracked}, heap ${(engineBytes / 2 ** 20).toFixed(1)} MiB (${bytesPerPair.toFixed(0)} B/pair)  ` +
      `verdicts ${verdicts}`,
  );
}

console.log(
  `verdict engine: ${agents} agents in ${zones} zones, each probed by ${probers} peers, ${windows} windows of ${WINDOW_MS / 1000} s (Node ${process.version})`,
);
measure('healthy', undefined);
measure('faults', faults);
console.log(`RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (the benchmark's generated outcomes included; the engine's share is the heap above)`);
