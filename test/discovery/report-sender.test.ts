// The agent's report streams over real sockets, against stand-in controllers (plain HTTP servers): every replica URL
// gets its own stream and receives the same outcomes as protocol lines, with the bearer token; an agent holding a
// token writes nothing to a server that does not prove it holds the token (a wrong URL, a spoofed name), and keeps
// retrying; a name resolving to several addresses (a headless Service) gets one stream per address, followed as the
// name's addresses change.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { waitUntil } from '../../harness/wait.ts';
import { HEARTBEAT_HEADER } from '../../src/protocol/agent-stream.ts';
import { CHALLENGE_HEADER, controllerProof, isChallenge, PROOF_HEADER } from '../../src/protocol/controller-proof.ts';
import { parseReportLine, REPORTS_PATH, type ReportedOutcome } from '../../src/protocol/report-stream.ts';
import { createLineFramer } from '../../src/protocol/line-framer.ts';
import { startControllerReports, type ControllerReportsOptions } from '../../src/discovery/controller-reports.ts';
import { createLogger } from '../../src/log.ts';

const TOKEN = 'report-sender-token-0123456789abcdef';
const log = createLogger('silent');

interface StandIn {
  readonly url: string;
  readonly outcomes: ReportedOutcome[];
  readonly requests: Array<{ path: string; authorization: string | undefined }>;
  bodyBytes(): number;
  close(): Promise<void>;
}

/** A stand-in controller: answers report streams with (or without) the proof and heartbeats, decodes every line. */
async function standIn(proves: boolean, host = '127.0.0.1', listenPort = 0): Promise<StandIn> {
  const outcomes: ReportedOutcome[] = [];
  const requests: StandIn['requests'] = [];
  let bodyBytes = 0;
  const heartbeats = new Set<http.ServerResponse>();
  const server = http.createServer((request, response) => {
    requests.push({ path: request.url ?? '', authorization: request.headers.authorization });
    const challenge = request.headers[CHALLENGE_HEADER];
    const proof = proves && isChallenge(challenge) ? { [PROOF_HEADER]: controllerProof(TOKEN, challenge) } : {};
    response.writeHead(200, { 'content-type': 'application/x-ndjson', [HEARTBEAT_HEADER]: '100', ...proof });
    response.flushHeaders();
    heartbeats.add(response);
    const framer = createLineFramer(1024 * 1024);
    request.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      for (const line of framer.push(chunk)) {
        const parsed = parseReportLine(line);
        assert.ok('batch' in parsed, `a bad line from the agent: ${line}`);
        outcomes.push(...parsed.batch.outcomes);
      }
    });
    request.socket.once('close', () => heartbeats.delete(response));
  });
  const ticker = setInterval(() => {
    for (const response of heartbeats) response.write('{"v":1}\n');
  }, 100);
  await new Promise<void>((resolve) => server.listen(listenPort, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    outcomes,
    requests,
    bodyBytes: () => bodyBytes,
    async close() {
      clearInterval(ticker);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** node-1's agent (pod agent-1) reporting to `urls` with the token; `overrides` hold what a test is about. */
const startReports = (urls: readonly string[], overrides: Partial<ControllerReportsOptions> = {}) =>
  startControllerReports({
    urls,
    nodeName: 'node-1',
    podName: 'agent-1',
    reconnect: { min: 20, max: 200 },
    staleAfterMs: 60_000,
    token: async () => TOKEN,
    log,
    onDrop: () => undefined,
    ...overrides,
  });

const recorded = (destination: string) => ({ kind: 'udp', destination, packetsSent: 5, packetsLost: 1, rttMs: 0.5, endedAt: performance.now() });

describe('agent report streams', () => {
  it('sends every outcome to every replica, with the token, as protocol lines', async () => {
    const replicas = [await standIn(true), await standIn(true)];
    const reports = startReports(
      replicas.map((replica) => replica.url),
      { onDrop: () => assert.fail('nothing should be dropped') },
    );
    try {
      reports.record(recorded('node-2'));
      reports.record({ ...recorded('ignored'), kind: 'unknown-kind' });
      reports.record(recorded('node-3'));
      for (const replica of replicas) {
        await waitUntil(`${replica.url} to receive both outcomes`, 20_000, () => replica.outcomes.length >= 2);
        assert.deepEqual(
          replica.outcomes.map((outcome) => [outcome.kind, outcome.destination, outcome.packetsSent, outcome.packetsLost, outcome.rttMs]),
          [
            ['udp', 'node-2', 5, 1, 0.5],
            ['udp', 'node-3', 5, 1, 0.5],
          ],
        );
        assert.ok(replica.outcomes.every((outcome) => outcome.ageMs >= 0));
        assert.equal(replica.requests[0]!.path, `${REPORTS_PATH}?node=node-1&pod=agent-1`);
        assert.equal(replica.requests[0]!.authorization, `Bearer ${TOKEN}`);
      }
    } finally {
      await reports.close();
      for (const replica of replicas) await replica.close();
    }
  });

  it('writes nothing to a server that does not prove the token, and retries', async () => {
    const impostor = await standIn(false);
    const reports = startReports([impostor.url], { reconnect: { min: 20, max: 100 } });
    try {
      reports.record(recorded('node-2'));
      await waitUntil('the agent to have tried three times (or to have written)', 20_000, () => impostor.requests.length >= 3 || impostor.bodyBytes() > 0);
      assert.equal(impostor.bodyBytes(), 0, 'an outcome reached a server that did not prove the token');
    } finally {
      await reports.close();
      await impostor.close();
    }
  });

  it('reports to every address a controller name resolves to, and follows the name', async () => {
    const first = await standIn(true, '127.0.0.1');
    const port = Number(new URL(first.url).port);
    const second = await standIn(true, '127.0.0.2', port);
    let addresses = ['127.0.0.1', '127.0.0.2'];
    const reports = startReports([`http://controller.test:${port}`], {
      resolve: async (hostname) => {
        assert.equal(hostname, 'controller.test');
        return addresses;
      },
      resolveIntervalMs: 100,
    });
    try {
      await waitUntil('both replicas', 10_000, () => reports.replicas().length === 2);
      assert.deepEqual(reports.replicas(), [`http://127.0.0.1:${port}`, `http://127.0.0.2:${port}`]);
      reports.record(recorded('node-2'));
      for (const replica of [first, second]) await waitUntil(`${replica.url} to receive the outcome`, 20_000, () => replica.outcomes.length === 1);
      // The name now resolves to the second address only: the first replica's stream goes, the second keeps reporting.
      addresses = ['127.0.0.2'];
      await waitUntil('the first replica to be dropped', 10_000, () => reports.replicas().length === 1);
      assert.deepEqual(reports.replicas(), [`http://127.0.0.2:${port}`]);
      reports.record(recorded('node-3'));
      await waitUntil('the second replica to receive the next outcome', 20_000, () => second.outcomes.length === 2);
      assert.deepEqual(
        first.outcomes.map((outcome) => outcome.destination),
        ['node-2'],
      );
    } finally {
      await reports.close();
      await first.close();
      await second.close();
    }
  });
});
