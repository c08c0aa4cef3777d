// The controller's report endpoint against a real controller process over real HTTP: without the token a report
// stream gets 401 (counted); with it the controller answers at once with its proof and heartbeats, a bad line is one
// log line naming the field and a counter while the stream goes on (the next good batch is recorded), and a line over
// the cap ends the stream (counted); past maxAgentStreams report streams, 503 (counted).
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { waitUntil } from '../../harness/wait.ts';
import { CHALLENGE_HEADER, newChallenge, PROOF_HEADER, proofMatches } from '../../src/protocol/controller-proof.ts';
import { encodeReportBatch, MAX_REPORT_LINE_BYTES, REPORTS_PATH } from '../../src/protocol/report-stream.ts';
import { spawnKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';

const TOKEN = 'report-intake-token-0123456789abcdef';
const PEERS = [1, 2].map((i) => ({ name: `agent-${i}`, nodeName: `node-${i}`, ip: `127.0.0.${i}`, zone: 'zone-a' }));

describe('controller report streams', () => {
  let dir: string;
  let controller: KconmonProcess;
  let port: number;

  const metric = async (name: string, labels: Record<string, string> = {}) =>
    sampleSum(parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()), name, labels);

  /** Opens a report stream; resolves with the request and the response once the controller answered. */
  function openStream(headers: http.OutgoingHttpHeaders): Promise<{ request: http.ClientRequest; response: http.IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `${REPORTS_PATH}?node=node-1&pod=agent-1`,
          agent: false,
          headers: { 'transfer-encoding': 'chunked', ...headers },
        },
        (response) => resolve({ request, response }),
      );
      request.on('error', reject);
      request.flushHeaders();
    });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kconmon-reports-'));
    port = await freePort();
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'peers.json'), JSON.stringify(PEERS));
    const config = {
      port,
      listenAddress: '127.0.0.1',
      heartbeatInterval: 100,
      maxAgentStreams: 2,
      logLevel: 'info',
      auth: { tokenFile: 'token' },
      source: { peersFile: 'peers.json' },
    };
    await writeFile(join(dir, 'controller.json'), JSON.stringify(config));
    controller = spawnKconmon('controller', join(dir, 'controller.json'));
    await waitUntil('the controller to be ready', 20_000, async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true);
  });

  after(async () => {
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a stream without the token, and counts it', async () => {
    const { request, response } = await openStream({});
    assert.equal(response.statusCode, 401);
    response.resume();
    request.destroy();
    assert.equal(await metric('kconmon_controller_reports_rejected_total', { reason: 'unauthorized' }), 1);
  });

  it('keeps a stream after a bad line, logging the field once, and records the next good batch', async () => {
    const challenge = newChallenge();
    const { request, response } = await openStream({ authorization: `Bearer ${TOKEN}`, [CHALLENGE_HEADER]: challenge });
    assert.equal(response.statusCode, 200);
    assert.ok(proofMatches(TOKEN, challenge, response.headers[PROOF_HEADER]), 'no valid proof of the token');
    let heartbeats = 0;
    response.on('data', (chunk: Buffer) => (heartbeats += chunk.toString().split('\n').length - 1));
    request.write('{"v":1,"sent":1,"r":[["u","node-2",-5,0,null,0]]}\n');
    await waitUntil(
      'the bad line to be counted',
      10_000,
      async () => (await metric('kconmon_controller_reports_rejected_total', { reason: 'bad_line' })) === 1,
    );
    request.write(encodeReportBatch({ sent: 2, outcomes: [{ kind: 'udp', destination: 'node-2', packetsSent: 5, packetsLost: 0, rttMs: 0.2, ageMs: 10 }] }));
    await waitUntil('the good batch to be recorded', 10_000, async () => (await metric('kconmon_verdict_reports_total', { result: 'recorded' })) === 1);
    await waitUntil('heartbeats on the stream', 10_000, () => heartbeats >= 2);
    assert.equal(await metric('kconmon_controller_report_streams'), 1);
    const logged = controller
      .output()
      .split('\n')
      .filter((line) => line.includes('bad report line ignored'));
    assert.equal(logged.length, 1, controller.output());
    assert.match(logged[0]!, /r\[0\]\[2\]: must be ≥ 0/);
    request.destroy();
    await waitUntil('the stream to be gone', 10_000, async () => (await metric('kconmon_controller_report_streams')) === 0);
  });

  it('ends a stream whose line exceeds the cap, and counts it', async () => {
    const { request, response } = await openStream({ authorization: `Bearer ${TOKEN}` });
    assert.equal(response.statusCode, 200);
    response.resume();
    const closed = new Promise<void>((resolve) => request.socket!.once('close', () => resolve()));
    request.on('error', () => undefined);
    request.write(Buffer.alloc(MAX_REPORT_LINE_BYTES + 1, 'x'));
    await closed;
    assert.equal(await metric('kconmon_controller_reports_rejected_total', { reason: 'line_too_long' }), 1);
  });

  it('answers 503 past maxAgentStreams report streams, and counts it', async () => {
    await waitUntil('no report stream left open', 10_000, async () => (await metric('kconmon_controller_report_streams')) === 0);
    const open = [await openStream({ authorization: `Bearer ${TOKEN}` }), await openStream({ authorization: `Bearer ${TOKEN}` })];
    try {
      assert.deepEqual(
        open.map(({ response }) => response.statusCode),
        [200, 200],
      );
      const refused = await openStream({ authorization: `Bearer ${TOKEN}` });
      assert.equal(refused.response.statusCode, 503);
      refused.response.resume();
      refused.request.destroy();
      assert.equal(await metric('kconmon_controller_reports_rejected_total', { reason: 'over_capacity' }), 1);
    } finally {
      for (const { request, response } of open) {
        response.resume();
        request.destroy();
      }
    }
  });
});
