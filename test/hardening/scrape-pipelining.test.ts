// Regression test for scrapes that exhausted memory: one TCP connection writes 20,000 pipelined `GET /metrics` to a real
// agent (and to a real controller) and never reads. Before the fix every queued request started its own rendering of
// the registry: RSS grew by hundreds of MB and the agent's peers recorded UDP and TCP failures to a healthy node. Now a
// scrape renders at most once at a time and the connection is closed once it queues a few unanswered requests.
// Asserted as facts: RSS growth (VmRSS before and after) below a bound, the process alive, zero failed tests seen by a
// real peer agent probing the attacked one (or zero missed answers from the controller), and bounded renderings.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';
import { startKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';

const PIPELINED_REQUESTS = 20_000;
/** RSS the attack may add: a fraction of what one rendering per queued request cost (hundreds of MB). */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
/** Renderings the attack may cause: a handful (shared), not one per request. */
const RENDERS_BOUND = 10;
/** Listed peers nothing answers on: their series give /metrics a realistic size (tests to them simply fail). */
const SILENT_PEERS = 100;

const AGENT_A = '127.0.61.1';
const AGENT_B = '127.0.61.2';
const CONTROLLER = '127.0.61.3';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kconmon-pipelining-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Opens one connection, writes every request at once and never reads; returns the socket. */
function pipelineScrapes(address: string, port: number, path: string): net.Socket {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  const socket = net.connect({ host: address, port });
  socket.on('error', () => {
    // A reset by the server is one way of being closed.
  });
  socket.pause(); // never read a byte of the answers
  socket.write(Buffer.concat(Array.from({ length: PIPELINED_REQUESTS }, () => request)));
  return socket;
}

async function scrape(url: string): Promise<ReturnType<typeof parseExposition>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  assert.equal(response.status, 200, `${url}: HTTP ${response.status}`);
  return parseExposition(text);
}

function sum(all: ReturnType<typeof parseExposition>, name: string, labels: Record<string, string> = {}): number {
  return all
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);
}

const peer = (name: string, ip: string) => ({ name: `kconmon-${name}`, nodeName: name, ip, zone: 'zone-a' });

describe('20,000 pipelined scrapes on one connection that never reads', { concurrency: false }, () => {
  it('the agent stays within its memory bound, alive, and its peer sees no failed UDP or TCP test', async (t) => {
    const port = await findSharedPort([AGENT_A, AGENT_B]);
    const silent = Array.from({ length: SILENT_PEERS }, (_, index) => peer(`silent-${index}`, `127.0.61.${10 + index}`));
    const agents: KconmonProcess[] = [];
    try {
      for (const [name, ip, peers] of [
        ['node-a', AGENT_A, [peer('node-a', AGENT_A), peer('node-b', AGENT_B), ...silent]],
        ['node-b', AGENT_B, [peer('node-a', AGENT_A), peer('node-b', AGENT_B)]],
      ] as const) {
        writeFileSync(join(dir, `${name}-peers.json`), JSON.stringify(peers));
        const config = {
          port,
          listenAddress: ip,
          logLevel: 'warn',
          shutdownGracePeriod: 0,
          jitter: { min: 0, max: 100 },
          udp: { interval: 1000 },
          tcp: { interval: 1000, timeout: 500 },
          dns: { enabled: false },
          // node-a probes all its 101 peers (no probing budget): the registry of a large agent is what is scraped.
          probing: { maxPeers: 100_000 },
          discovery: { peersFile: `./${name}-peers.json`, newPeerDelay: 0 },
        };
        writeFileSync(join(dir, `${name}.yaml`), JSON.stringify(config));
        const identity = { NODE_NAME: name, POD_NAME: `kconmon-${name}`, POD_IP: ip, ZONE: 'zone-a' };
        agents.push(await startKconmon('agent', join(dir, `${name}.yaml`), `http://${ip}:${port}/healthz`, identity));
      }
      const [attacked, prober] = agents as [KconmonProcess, KconmonProcess];
      const fromB = { source: 'node-b', destination: 'node-a' };
      const testsOfB = async () => {
        const all = await scrape(`http://${AGENT_B}:${port}/metrics`);
        return {
          udp: sum(all, 'kconmon_udp_results_total', fromB),
          tcp: sum(all, 'kconmon_tcp_results_total', fromB),
          udpFailed: sum(all, 'kconmon_udp_results_total', { ...fromB, result: 'fail' }),
          tcpFailed: sum(all, 'kconmon_tcp_results_total', { ...fromB, result: 'fail' }),
        };
      };
      await waitUntil('node-b to test node-a', 20_000, async () => {
        const tests = await testsOfB();
        return tests.udp > 0 && tests.tcp > 0;
      });

      const warm = await scrape(`http://${AGENT_A}:${port}/metrics`);
      assert.ok(warm.length > 1000, `the attacked agent exports a realistic number of series (${warm.length})`);
      const rssBefore = attacked.rssBytes();
      const rendersBefore = sum(warm, 'kconmon_metrics_renders_total');
      const before = await testsOfB();

      const attack = pipelineScrapes(AGENT_A, port, '/metrics');
      try {
        // The observation window: node-b completes five more UDP and five more TCP tests to node-a.
        await waitUntil('node-b to run five more UDP and TCP tests to node-a', 60_000, async () => {
          const now = await testsOfB();
          return now.udp >= before.udp + 5 && now.tcp >= before.tcp + 5;
        });
        const during = await testsOfB();
        const rssAfter = attacked.rssBytes();

        assert.ok(attacked.alive(), `the attacked agent exited:\n${attacked.output()}`);
        const growth = rssAfter - rssBefore;
        t.diagnostic(`RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB`);
        assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB (bound ${RSS_GROWTH_BOUND / 2 ** 20} MiB)`);
        assert.deepEqual(
          { udpFailed: during.udpFailed - before.udpFailed, tcpFailed: during.tcpFailed - before.tcpFailed },
          { udpFailed: 0, tcpFailed: 0 },
          'the peer recorded failures to a healthy node',
        );
        const after = await scrape(`http://${AGENT_A}:${port}/metrics`);
        // Renderings since the warm scrape: the attack's (shared) plus this scrape's own.
        const renders = sum(after, 'kconmon_metrics_renders_total') - rendersBefore;
        assert.ok(renders <= RENDERS_BOUND, `${renders} renderings for ${PIPELINED_REQUESTS} pipelined scrapes`);
        assert.equal(sum(after, 'kconmon_http_connections_closed_total'), 1, 'the agent closed the pipelining connection');
      } finally {
        attack.destroy();
      }
      assert.equal(prober.alive(), true);
    } finally {
      await Promise.all(agents.map((agent) => agent.kill()));
    }
  });

  it('the controller stays within its memory bound and alive, and keeps answering agents and its watch stream', async (t) => {
    const port = await findSharedPort([CONTROLLER]);
    const listed = Array.from({ length: SILENT_PEERS }, (_, index) => peer(`node-${index}`, `127.0.61.${10 + index}`));
    writeFileSync(join(dir, 'controller-peers.json'), JSON.stringify(listed));
    const config = { port, listenAddress: CONTROLLER, logLevel: 'warn', heartbeatInterval: 200, source: { peersFile: './controller-peers.json' } };
    writeFileSync(join(dir, 'controller.yaml'), JSON.stringify(config));
    const base = `http://${CONTROLLER}:${port}`;
    const controller = await startKconmon('controller', join(dir, 'controller.yaml'), `${base}/readyz`);
    // An agent's watch stream, held open through the attack: it must keep receiving heartbeats.
    let lines = 0;
    let streamEnded = false;
    const stream = http.get(`${base}/v1/watch?node=node-0&pod=kconmon-node-0`, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (lines += chunk.split('\n').length - 1));
      response.on('close', () => (streamEnded = true));
    });
    stream.on('error', () => (streamEnded = true));
    try {
      await waitUntil('the watch snapshot', 10_000, () => lines > 0);
      const warm = await scrape(`${base}/metrics`);
      const rssBefore = controller.rssBytes();
      const rendersBefore = sum(warm, 'kconmon_controller_metrics_renders_total');

      const attack = pipelineScrapes(CONTROLLER, port, '/metrics');
      try {
        // The observation window: 20 agent-list requests on fresh connections, and five heartbeats on the stream.
        const linesAtStart = lines;
        const answers: number[] = [];
        for (let request = 0; request < 20; request++) {
          const response = await fetch(`${base}/agents`, { signal: AbortSignal.timeout(10_000) });
          answers.push(((await response.json()) as unknown[]).length);
        }
        await waitUntil('five heartbeats on the watch stream', 30_000, () => lines >= linesAtStart + 5 || streamEnded);
        const rssAfter = controller.rssBytes();

        assert.ok(controller.alive(), `the controller exited:\n${controller.output()}`);
        const growth = rssAfter - rssBefore;
        t.diagnostic(`RSS ${(rssBefore / 2 ** 20).toFixed(1)} → ${(rssAfter / 2 ** 20).toFixed(1)} MiB`);
        assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB (bound ${RSS_GROWTH_BOUND / 2 ** 20} MiB)`);
        assert.deepEqual(
          answers,
          Array.from({ length: 20 }, () => SILENT_PEERS),
          'every agent-list request answered in full',
        );
        assert.equal(streamEnded, false, 'the watch stream was dropped');
        const after = await scrape(`${base}/metrics`);
        const renders = sum(after, 'kconmon_controller_metrics_renders_total') - rendersBefore;
        assert.ok(renders <= RENDERS_BOUND, `${renders} renderings for ${PIPELINED_REQUESTS} pipelined scrapes`);
        assert.equal(sum(after, 'kconmon_controller_http_connections_closed_total'), 1, 'the controller closed the pipelining connection');
      } finally {
        attack.destroy();
      }
    } finally {
      stream.destroy();
      await controller.kill();
    }
  });
});
