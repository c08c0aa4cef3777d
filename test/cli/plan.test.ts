// Tests the real `kconmon plan` (src/cli.ts as a child process): figures for --nodes/--zones and for a
// `kubectl get nodes -o json` document on stdin agree with the assignment computed here; bad input exits 2 with one line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runKconmon as kconmon } from '../helpers/kconmon-cli.ts';
import { selectPeers } from '../../src/topology/peer-selection.ts';
import { assignmentStats } from '../../src/topology/assignment-stats.ts';
import { syntheticNodes } from '../../src/commands/plan.ts';

/** The value after `label` on the output line starting with `prefix` (numbers with thousands separators). */
function figure(stdout: string, prefix: string, label: string): number {
  const line = stdout.split('\n').find((candidate) => candidate.trimStart().startsWith(prefix));
  assert.ok(line, `no line starting with "${prefix}" in:\n${stdout}`);
  const match = new RegExp(`${label} ([\\d,.]+)`).exec(line);
  assert.ok(match, `no "${label} N" in "${line}"`);
  return Number(match[1]!.replace(/,/g, ''));
}

function nodeList(nodes: { name: string; zone?: string }[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: nodes.map(({ name, zone }) => ({
      kind: 'Node',
      metadata: { name, labels: zone === undefined ? { 'kubernetes.io/os': 'linux' } : { 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': zone } },
    })),
  });
}

describe('kconmon plan', { concurrency: true }, () => {
  it('--nodes 5000 --zones 3: the assignment the agents would compute, its degrees, coverage and series', async () => {
    const run = await kconmon(['plan', '--nodes', '5000', '--zones', '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const nodes = syntheticNodes(5000, 3);
    const stats = assignmentStats(nodes, selectPeers(nodes, { maxPeers: 18 }));
    assert.match(run.stdout, /^kconmon plan: 5,000 nodes in 3 zones \(sizes 1666–1667\), probing\.maxPeers 18;/);
    assert.equal(figure(run.stdout, 'peers per agent', 'max'), stats.outDegree.max);
    assert.ok(stats.outDegree.max <= 18);
    assert.equal(figure(run.stdout, 'probers per node', 'min'), stats.inDegree.min);
    assert.equal(figure(run.stdout, 'probers per node', 'max'), stats.inDegree.max);
    assert.equal(figure(run.stdout, 'zone coverage', 'coverage:'), 5000);
    assert.match(run.stdout, /zone pairs \(source zone → destination zone\) probed: 9 of 9/);
    // Cluster-wide series: N × (agent + process + DNS) + 11 per probed pair + 33 per agent × destination scope.
    const base = figure(run.stdout, 'series per agent', '=') + figure(run.stdout, 'series per agent', 'agent \\+');
    assert.equal(figure(run.stdout, 'cluster-wide', 'cluster-wide:'), 5000 * (base + 14) + 11 * stats.pairs + 33 * stats.destinationScopesTotal);
    assert.equal(figure(run.stdout, 'per agent:', 'agents over 400:'), 0);
    // The model's count for the agent with the most series equals the real registry rendered for it.
    assert.equal(figure(run.stdout, 'per agent:', 'max'), figure(run.stdout, 'per agent:', 'rendered:'));
  });

  it('a cluster whose peers fit the budget is planned as a full mesh', async () => {
    const run = await kconmon(['plan', '--nodes', '19', '--zones', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /assignment: full mesh \(N − 1 = 18 ≤ maxPeers 18\)/);
    assert.equal(figure(run.stdout, 'peers per agent', 'min'), 18);
  });

  it('reads `kubectl get nodes -o json` on stdin: zones from topology.kubernetes.io/zone, `unknown` without it', async () => {
    const nodes = [
      ...['a1', 'a2', 'a3', 'a4'].map((name) => ({ name, zone: 'eu-1a' })),
      ...['b1', 'b2', 'b3', 'b4'].map((name) => ({ name, zone: 'eu-1b' })),
      { name: 'bare' },
    ];
    const run = await kconmon(['plan', '--max-peers', '6'], {}, nodeList(nodes));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^kconmon plan: 9 nodes in 3 zones \(sizes 1–4\), probing\.maxPeers 6; from node list on stdin/);
    assert.match(run.stdout, /assignment: selected peers/);
    assert.ok(figure(run.stdout, 'peers per agent', 'max') <= 6);
    assert.ok(figure(run.stdout, 'probers per node', 'min') >= 3);
  });

  it('bad input: one line naming the problem, exit status 2', async () => {
    const cases: [string[], string | undefined, string][] = [
      [['plan'], 'not json', 'kconmon plan: stdin: not JSON'],
      [['plan'], '{"kind":"List"}', 'kconmon plan: stdin: no "items" list; expected the output of kubectl get nodes -o json'],
      [['plan'], nodeList([{ name: 'a' }, { name: 'a' }]), 'kconmon plan: stdin: items[1].metadata.name: duplicate node "a"'],
      [['plan', '--nodes', '0'], undefined, 'kconmon plan: --nodes: must be an integer from 1 to 100000 (got "0")'],
      [['plan', '--zones', '3'], undefined, 'kconmon plan: --zones needs --nodes'],
      [['plan', '--nodes', '10', '--max-peers', 'x'], undefined, 'kconmon plan: --max-peers: must be an integer from 1 to 10000 (got "x")'],
    ];
    for (const [args, input, message] of cases) {
      const run = await kconmon(args, {}, input);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr.split('\n').filter(Boolean).length, 1, run.stderr);
      assert.ok(run.stderr.startsWith(message), `${run.stderr} does not start with ${message}`);
    }
  });
});
