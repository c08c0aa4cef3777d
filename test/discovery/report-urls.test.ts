// `discovery.controller.reportUrls` with real processes: two agents watch one controller (`urls`, as through the
// chart's ClusterIP Service) and report to another (`reportUrls`, as through its headless Service). Every report
// stream and every recorded outcome is at the report controller, none at the watch controller; the watch controller
// still serves both agents their peers.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseExposition, sampleSum, type Sample } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { createAgentProcessGroup, type AgentProcessGroup } from '../helpers/agent-processes.ts';
import { spawnKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';

const PEERS: Peer[] = [1, 2].map((i) => ({ name: `agent-${i}`, nodeName: `node-${i}`, ip: `127.0.9.${10 + i}`, zone: 'zone-a' }));

let dir: string;
let group: AgentProcessGroup | undefined;
const controllers: { name: string; url: string; process: KconmonProcess }[] = [];

async function startControllerProcess(name: string): Promise<string> {
  const port = await freePort();
  const peersFile = join(dir, `${name}.peers.json`);
  await writeFile(peersFile, JSON.stringify(PEERS));
  const configFile = join(dir, `${name}.json`);
  await writeFile(
    configFile,
    JSON.stringify({ port, listenAddress: '127.0.0.1', heartbeatInterval: 200, source: { peersFile }, verdicts: { window: 1000, grace: 200 } }),
  );
  const url = `http://127.0.0.1:${port}`;
  const process = spawnKconmon('controller', configFile);
  controllers.push({ name, url, process });
  await waitUntil(`controller ${name} ready`, 20_000, async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true);
  return url;
}

async function metrics(url: string): Promise<Sample[]> {
  return parseExposition(await (await fetch(`${url}/metrics`)).text());
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kconmon-report-urls-'));
});

after(async () => {
  await group?.close();
  for (const { process } of controllers) await process.stop();
  await rm(dir, { recursive: true, force: true });
});

test('agents watch the urls and report to the reportUrls only', async () => {
  const watchUrl = await startControllerProcess('watch');
  const reportUrl = await startControllerProcess('reports');
  group = await createAgentProcessGroup(PEERS.map((peer) => peer.ip));
  for (const peer of PEERS) {
    await group.start(peer, [], {
      discovery: { controller: { urls: [watchUrl], reportUrls: [reportUrl], reconnectMin: 50, reconnectMax: 500 }, newPeerDelay: 0 },
      jitter: { min: 0, max: 50 },
      udp: { interval: 500, timeout: 200, packets: 2, packetSpacing: 20 },
      tcp: { interval: 500, timeout: 300 },
    });
  }
  await waitUntil(
    'both agents watching the watch controller',
    20_000,
    async () => sampleSum(await metrics(watchUrl), 'kconmon_controller_connected_agents') === 2,
  );
  await waitUntil('outcomes recorded by the report controller', 20_000, async () => {
    const scrape = await metrics(reportUrl);
    return sampleSum(scrape, 'kconmon_controller_report_streams') === 2 && sampleSum(scrape, 'kconmon_verdict_reports_total', { result: 'recorded' }) > 0;
  });
  const atWatch = await metrics(watchUrl);
  assert.equal(sampleSum(atWatch, 'kconmon_controller_report_streams'), 0, 'no report stream at the watch controller');
  assert.equal(sampleSum(atWatch, 'kconmon_verdict_reports_total'), 0, 'no outcome at the watch controller');
  assert.equal(sampleSum(await metrics(reportUrl), 'kconmon_controller_connected_agents'), 0, 'no watch at the report controller');
});
