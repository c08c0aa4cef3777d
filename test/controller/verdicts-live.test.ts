// The verdicts end to end on loopback with real processes: a controller (peers-file source) and four agents that get
// their peers from it and report every probe outcome to it. Healthy: /api/v1/status and `kconmon status` say so (exit
// 0, no verdict). An agent stopped with SIGSTOP (its echo and HTTP no longer answer): after a few windows the status
// and `kconmon status` name that node as a destination problem and nothing else (exit 1). A controller stopped with
// SIGSTOP: the agents keep probing with unchanged results and count the reports they drop.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { StatusDocument } from '../../src/controller/verdict-status.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import type { AgentProcess } from '../helpers/agent-processes.ts';
import { startReportingCluster, type ReportingCluster } from '../helpers/reporting-cluster.ts';
import { runKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';

const PEERS: Peer[] = [1, 2, 3, 4].map((i) => ({ name: `agent-${i}`, nodeName: `node-${i}`, ip: `127.0.9.${i}`, zone: i <= 2 ? 'zone-a' : 'zone-b' }));
const WINDOW_MS = 1000;

describe('verdicts from real agents and a real controller', () => {
  let dir: string;
  let controller: KconmonProcess;
  let controllerUrl: string;
  let cluster: ReportingCluster | undefined;
  const agents: AgentProcess[] = [];

  async function status(): Promise<StatusDocument> {
    const response = await fetch(`${controllerUrl}/api/v1/status`, { signal: AbortSignal.timeout(2000) });
    assert.equal(response.status, 200);
    return (await response.json()) as StatusDocument;
  }

  const diagnostics = () => cluster?.diagnostics() ?? '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kconmon-verdicts-'));
    cluster = await startReportingCluster(dir, PEERS, WINDOW_MS, 'verdicts-live-token-0123456789abcdef');
    ({ controller, controllerUrl } = cluster);
    agents.push(...cluster.agents);
  });

  after(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('healthy: the status is healthy with every agent reporting, and kconmon status exits 0', async () => {
    const healthy = await waitUntil('a healthy status with every agent reporting', 60_000, async (note) => {
      const document = await status();
      note(`${JSON.stringify(document)}\n${diagnostics()}`);
      return document.healthy === true && document.coverage.agentsReporting === PEERS.length ? document : undefined;
    });
    assert.deepEqual(healthy.verdicts, []);
    assert.equal(healthy.apiVersion, 'kconmon.io/v1');
    assert.equal(healthy.coverage.pairsAssigned, 12);
    const run = await runKconmon(['status', '--controller', controllerUrl]);
    // The status can only turn unhealthy between the two reads if a verdict appeared: say which.
    assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /healthy: no verdict/);
    const metrics = parseExposition(await (await fetch(`${controllerUrl}/metrics`)).text());
    assert.ok(sampleSum(metrics, 'kconmon_verdict_reports_total', { result: 'recorded' }) > 0, 'no outcome recorded');
    assert.equal(sampleSum(metrics, 'kconmon_verdict'), 0);
  });

  it('a stopped agent is named as a destination problem and nothing else; kconmon status exits 1', async () => {
    const stopped = agents[3]!;
    stopped.signal('SIGSTOP');
    try {
      const document = await waitUntil('a verdict on node-4', 60_000, async (note) => {
        const current = await status();
        note(JSON.stringify(current));
        return current.verdicts.some((verdict) => verdict.id === 'node:node-4') ? current : undefined;
      });
      assert.deepEqual(
        document.verdicts.map((verdict) => [verdict.id, verdict.kind]),
        [['node:node-4', 'node-destination']],
      );
      assert.equal(document.healthy, false);
      assert.match(document.verdicts[0]!.summary, /^node-4 unreachable from 3 of 3 probers since .* \(destination problem\)$/);

      const table = await runKconmon(['status', '--controller', controllerUrl]);
      assert.equal(table.code, 1, `${table.stdout}${table.stderr}`);
      assert.match(table.stdout, /node-destination +node:node-4 .* node-4 unreachable from 3 of 3 probers/);
      for (const other of ['node-1', 'node-2', 'node-3']) assert.doesNotMatch(table.stdout, new RegExp(`${other}\\b`));
      const json = await runKconmon(['status', '--controller', controllerUrl, '-o', 'json']);
      assert.equal(json.code, 1, json.stderr);
      const parsed = JSON.parse(json.stdout) as StatusDocument;
      assert.deepEqual(
        parsed.verdicts.map((verdict) => verdict.id),
        ['node:node-4'],
      );

      const metrics = parseExposition(await (await fetch(`${controllerUrl}/metrics`)).text());
      assert.equal(sampleSum(metrics, 'kconmon_verdict', { kind: 'node-destination', node: 'node-4' }), 1);
      assert.equal(sampleSum(metrics, 'kconmon_verdict'), 1);
    } finally {
      stopped.signal('SIGCONT');
    }
    await waitUntil('the verdict to clear once node-4 answers again', 60_000, async (note) => {
      const current = await status();
      note(JSON.stringify(current));
      return current.healthy === true;
    });
  });

  it('a stopped controller: agents keep probing with unchanged results and count the reports they drop', async () => {
    const agent = agents[0]!;
    const passes = async () => sampleSum(await agent.metrics(), 'kconmon_udp_results_total', { result: 'pass' });
    const failuresBefore = sampleSum(await agent.metrics(), 'kconmon_udp_results_total', { result: 'fail' });
    controller.child.kill('SIGSTOP');
    try {
      const dropped = await waitUntil('reports dropped while the controller is stopped', 60_000, async (note) => {
        const metrics = await agent.metrics();
        const count = sampleSum(metrics, 'kconmon_agent_reports_dropped_total', { reason: 'stale' });
        note(`dropped ${count}\n${agent.output().slice(-2000)}`);
        return count > 0 ? count : undefined;
      });
      assert.ok(dropped > 0);
      // Probing goes on after the drops began: more passed tests, and no failure the controller's absence caused.
      const passesAtDrop = await passes();
      await waitUntil('more passed UDP tests after the drops began', 30_000, async () => (await passes()) > passesAtDrop);
      assert.equal(sampleSum(await agent.metrics(), 'kconmon_udp_results_total', { result: 'fail' }), failuresBefore);
      const results = await agent.results();
      assert.ok(
        results.latest.filter((entry) => entry.test === 'udp').every((entry) => entry.passed),
        JSON.stringify(results.latest),
      );
    } finally {
      controller.child.kill('SIGCONT');
    }
  });
});
