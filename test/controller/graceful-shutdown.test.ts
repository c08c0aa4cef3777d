// A controller process stopping (SIGTERM, as in a rollout): it turns unready at once but keeps serving its agents for
// shutdownGracePeriod — a change to the agent list made meanwhile still reaches an agent on the stream it held before
// the signal, and a new watch is still answered — and only then closes the streams and exits. Before, it closed every
// stream at the signal: the agents reconnected through a Service that still routed some of them to the stopping
// replica and kept their last list, without the changes of the rollout, until a later attempt reached a live one.
// Real controller process, the agent's real controller client, real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { startControllerClient, type ControllerClient } from '../../src/discovery/controller-client.ts';
import { waitFor } from '../helpers/agents.ts';
import { freePort } from '../helpers/prometheus.ts';
import { startKconmon } from '../helpers/kconmon-process.ts';

const peer = (index: number) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${index}`, zone: 'zone-a' });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kconmon-controller-shutdown-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** One GET without connection reuse: its status and trimmed body, or the connection error's code (status 0). */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: body.trim() }));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: error.code ?? error.message }));
  });
}

/** Opens a watch and resolves with its status and first line (the snapshot for a 200). */
function firstWatchLine(base: string, node: string): Promise<{ status: number; line: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(`/v1/watch?node=${node}&pod=${node}`, base), { agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        if (!text.includes('\n')) return;
        request.destroy();
        resolve({ status: response.statusCode ?? 0, line: text.slice(0, text.indexOf('\n')) });
      });
    });
    request.on('error', reject);
  });
}

test('SIGTERM: unready at once, the agents still get every change for the grace period, then the streams close', async () => {
  const peersFile = join(dir, 'peers.yaml');
  await writeFile(peersFile, stringify([peer(1), peer(2)]));
  const port = await freePort('127.0.0.1');
  const configFile = join(dir, 'controller.yaml');
  await writeFile(
    configFile,
    stringify({ listenAddress: '127.0.0.1', port, heartbeatInterval: 200, shutdownGracePeriod: 5000, logLevel: 'info', source: { peersFile: 'peers.yaml' } }),
  );
  const controller = startKconmon('controller', configFile);
  const base = `http://127.0.0.1:${port}`;
  const events: string[] = [];
  let client: ControllerClient | undefined;
  try {
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 15_000, `the controller ready:\n${controller.output()}`);
    client = startControllerClient({
      urls: [base],
      nodeName: 'node-1',
      podName: 'agent-1',
      // No reconnect within the test: everything it receives comes over the stream it opened before the signal.
      reconnect: { min: 600_000, max: 600_000 },
      log: pino({ level: 'silent' }),
      onUpdate: ({ agents }) => events.push(`list ${agents.map((agent) => agent.name).join(',')}`),
      onConnection: ({ connected }) => events.push(connected ? 'connected' : 'disconnected'),
    });
    await waitFor(() => events.includes('connected'), 15_000, `the first list:\n${events.join('\n')}\n${controller.output()}`);

    controller.child.kill('SIGTERM');
    events.push('SIGTERM');
    await waitFor(() => controller.output().includes('"msg":"shutting down"'), 5000, `the signal handled:\n${controller.output()}`);
    assert.deepEqual(await get(`${base}/readyz`), { status: 503, body: 'shutting down' }, `unready at once:\n${controller.output()}`);
    await writeFile(peersFile, stringify([peer(1), peer(2), peer(3)]));
    await waitFor(() => events.includes('list agent-1,agent-2,agent-3'), 4000, `the change on the open stream:\n${events.join('\n')}\n${controller.output()}`);
    const late = await firstWatchLine(base, 'node-9');
    assert.equal(late.status, 200, 'a watch opened during the grace period is served');
    assert.deepEqual((JSON.parse(late.line) as { agents: { name: string }[] }).agents.map((agent) => agent.name), ['agent-1', 'agent-2', 'agent-3']);

    assert.equal(await controller.exited, 0, controller.output());
    await waitFor(() => events.includes('disconnected'), 5000, 'the stream closed');
    assert.deepEqual(events, ['list agent-1,agent-2', 'connected', 'SIGTERM', 'list agent-1,agent-2,agent-3', 'disconnected']);
    assert.equal(client.stats().streams, 1, 'one stream from before the signal to the end');
    assert.match(controller.output(), /still serving agent streams during the grace period/);
  } finally {
    await client?.close();
    await controller.stop();
  }
});
