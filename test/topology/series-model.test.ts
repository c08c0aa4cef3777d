// The cardinality model (src/topology/series-model.ts) against the real agent registry: series per peer, per
// destination scope and per DNS target are what the agent's metrics and its probe kinds' metrics export after one
// result of each kind, whatever the number of zones the peers are in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { parseAgentConfig } from '../../src/config/load.ts';
import { collectProcessMetrics } from '../../src/metrics/agent-metrics.ts';
import { renderAgent } from '../../src/commands/plan.ts';
import { SERIES_PER_DESTINATION_SCOPE, SERIES_PER_DNS_TARGET, SERIES_PER_PEER, agentSeries, destinationScopes } from '../../src/topology/series-model.ts';

const SELF_ZONE = 'z-0';

/** The real registry (kconmon plan's renderer: the agent's metrics and every probe kind's) after one result each. */
async function seriesOf(peers: number, zones: number, dnsTargets: number): Promise<number> {
  const targets = Array.from({ length: dnsTargets }, (_, index) => `host-${index}.example`);
  const config = parseAgentConfig({ discovery: { peersFile: 'peers.yaml' }, dns: { targets: targets.length > 0 ? targets : ['unused.example'] } }, 'test');
  const list = Array.from({ length: peers }, (_, index) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: '10.0.0.1', zone: `z-${index % zones}` }));
  return (await renderAgent(config, { nodeName: 'self', zone: SELF_ZONE }, list, dnsTargets)).series;
}

describe('series model', () => {
  it('matches the real registry: base + 14 per DNS target + 11 per peer + 33 per destination scope (same zone, other zones)', async () => {
    const base = await seriesOf(0, 1, 0);
    assert.equal(SERIES_PER_PEER, 11);
    assert.equal(SERIES_PER_DESTINATION_SCOPE, 33);
    assert.equal(SERIES_PER_DNS_TARGET, 14);
    for (const [peers, zones, dns] of [
      [1, 1, 0], // same zone only
      [1, 2, 0], // z-0 only: same zone
      [2, 2, 1], // both scopes
      [10, 1, 1],
      [10, 3, 2],
      [18, 18, 1], // 18 zones: still two scopes
      [40, 50, 1],
    ] as const) {
      const peerZones = Array.from({ length: peers }, (_, index) => `z-${index % zones}`);
      const expected = agentSeries({ baseSeries: base, dnsTargets: dns, peers, destinationScopes: destinationScopes(SELF_ZONE, peerZones) });
      assert.equal(await seriesOf(peers, zones, dns), expected, `${peers} peers, ${zones} zones, ${dns} DNS`);
    }
  });

  it('the histograms grow with destination scopes, not zones: 18 peers in 18 zones export what 18 peers in 2 zones do', async () => {
    assert.equal(await seriesOf(18, 18, 1), await seriesOf(18, 2, 1));
  });

  it('the process metrics do not grow as GC kinds are first seen: all four exist from the start', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const kinds = (await registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('nodejs_gc_duration_seconds_count{'))
      .map((line) => /kind="(\w+)"/.exec(line)?.[1]);
    assert.deepEqual(kinds.sort(), ['incremental', 'major', 'minor', 'weakcb']);
  });
});
