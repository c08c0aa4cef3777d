// `npm run bench:selection`: what computing the peer assignment costs (an agent redoes it on every pushed list change)
// and what one join or leave changes, at N = 1,000 and 5,000 nodes in 1, 3 and 50 zones with the default budget.
// Prints markdown figures (no pass/fail): CPU time per computation (process.cpuUsage, median of the runs after a
// warm-up) and wall time, heap allocated, and over a series of joins and leaves the ordered pairs changed vs 3 × budget.
import { DEFAULT_MAX_PEERS, selectPeers, type PeerAssignment, type TopologyNode } from '../../src/topology/peer-selection.ts';
import { syntheticNodes } from '../../src/commands/plan.ts';

const RUNS = 7;
const CHURN_EVENTS = 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeOne(nodes: readonly TopologyNode[], maxPeers: number): { cpuMs: number; wallMs: number; assignment: PeerAssignment } {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const assignment = selectPeers(nodes, { maxPeers });
  const wallMs = performance.now() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, assignment };
}

function pairs(assignment: PeerAssignment): Set<string> {
  const set = new Set<string>();
  for (const [source, targets] of assignment.targets) for (const target of targets) set.add(`${source}\u0000${target}`);
  return set;
}

function changed(a: Set<string>, b: Set<string>): number {
  let count = 0;
  for (const pair of a) if (!b.has(pair)) count++;
  for (const pair of b) if (!a.has(pair)) count++;
  return count;
}

const maxPeers = DEFAULT_MAX_PEERS;
console.log(`Peer selection, probing.maxPeers ${maxPeers} (Node ${process.version}; median of ${RUNS} runs after one warm-up)\n`);
console.log('| N | zones | CPU ms per computation (median / max) | wall ms (median) | spilled | churn: max pairs changed (join / leave) | 3 × budget |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const count of [1000, 5000]) {
  for (const zones of [1, 3, 50]) {
    const nodes = syntheticNodes(count, zones);
    timeOne(nodes, maxPeers); // warm-up
    const cpu: number[] = [];
    const wall: number[] = [];
    let assignment: PeerAssignment | undefined;
    for (let run = 0; run < RUNS; run++) {
      const result = timeOne(nodes, maxPeers);
      cpu.push(result.cpuMs);
      wall.push(result.wallMs);
      assignment = result.assignment;
    }
    const before = pairs(assignment!);
    let worstJoin = 0;
    let worstLeave = 0;
    for (let event = 0; event < CHURN_EVENTS; event++) {
      const joined = [...nodes, { name: `joined-${event}.region.compute.internal`, zone: nodes[event]!.zone }];
      worstJoin = Math.max(worstJoin, changed(before, pairs(selectPeers(joined, { maxPeers }))));
      const left = nodes.filter((_, index) => index !== event * 97);
      worstLeave = Math.max(worstLeave, changed(before, pairs(selectPeers(left, { maxPeers }))));
    }
    console.log(
      `| ${count} | ${zones} | ${median(cpu).toFixed(1)} / ${Math.max(...cpu).toFixed(1)} | ${median(wall).toFixed(1)} | ${assignment!.spilled} | ` +
        `${worstJoin} / ${worstLeave} (${CHURN_EVENTS} each) | ${3 * maxPeers} |`,
    );
  }
}
