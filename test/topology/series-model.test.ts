// The cardinality model (src/topology/series-model.ts) against the real agent registry: series per peer, per
// destination zone and per DNS target are what createAgentMetrics exports after one result of each kind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createAgentMetrics } from '../../src/metrics/agent-metrics.ts';
import { SERIES_PER_DESTINATION_ZONE, SERIES_PER_DNS_TARGET, SERIES_PER_PEER, agentSeries } from '../../src/topology/series-model.ts';

async function seriesOf(peers: number, zones: number, dnsTargets: number): Promise<number> {
  const registry = new Registry();
  const source = { nodeName: 'self', zone: 'z-self' };
  const metrics = createAgentMetrics({ registry, prefix: 'kconmon', source, version: 't', processMetrics: false });
  for (let index = 0; index < peers; index++) {
    const peer = { name: `agent-${index}`, nodeName: `node-${index}`, ip: '10.0.0.1', zone: `z-${index % zones}` };
    metrics.addPeer(peer);
    metrics.recordUdp(peer, {
      kind: 'udp', rttMicros: [250, 260], sent: 2, received: 2, lost: 0, unmeasured: 0, late: 0, averageMs: 0.255, spreadMs: 0.01, lossPercent: 0,
      aborted: false, measured: true, passed: true,
    });
    metrics.recordTcp(peer, {
      kind: 'tcp', passed: true, connectMs: 0.3, totalMs: 1, statusCode: 200, reason: undefined, detail: undefined, aborted: false, unmeasured: false,
    });
  }
  for (let index = 0; index < dnsTargets; index++) {
    metrics.addDnsTarget(`host-${index}`);
    metrics.recordDns(`host-${index}`, { kind: 'dns', passed: true, durationMs: 1, answers: [], reason: undefined, detail: undefined });
  }
  return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
}

describe('series model', () => {
  it('matches the real registry: base + 27 per DNS target + 13 per peer + 72 per destination zone', async () => {
    const base = await seriesOf(0, 1, 0);
    assert.equal(SERIES_PER_PEER, 13);
    assert.equal(SERIES_PER_DESTINATION_ZONE, 72);
    assert.equal(SERIES_PER_DNS_TARGET, 27);
    for (const [peers, zones, dns] of [[1, 1, 0], [10, 1, 1], [10, 3, 2], [40, 7, 1]] as const) {
      const expected = agentSeries({ baseSeries: base, dnsTargets: dns, peers, destinationZones: Math.min(peers, zones) });
      assert.equal(await seriesOf(peers, zones, dns), expected, `${peers} peers, ${zones} zones, ${dns} DNS`);
    }
  });
});
