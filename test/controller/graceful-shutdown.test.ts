// A controller process stopping (SIGTERM, as in a rollout): it turns unready at once but keeps serving its agents for
// shutdownGracePeriod — a change to the agent list made meanwhile still reaches an agent on the stream it held before
// the signal, and an agent that connects meanwhile is still served — and only then closes the streams and exits.
// Before, it closed every stream and its port at the signal: the agents reconnected through a Service that still routed
// some of them to the stopping replica, were refused, and kept their last list, without the changes of the rollout,
// until a later attempt reached a live one. Real controller process, the agent's real controller client, real HTTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { startControllerClient, type ControllerClient } from '../../src/discovery/controller-client.ts';
import { waitUntil } from '../../harness/wait.ts';
import { freePort } from '../../harness/ports.ts';
import { spawnKconmon } from '../helpers/kconmon-cli.ts';

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

test('SIGTERM: unready at once, the agents still get every change for the grace period, then the streams close', async () => {
  const peersFile = join(dir, 'peers.yaml');
  await writeFile(peersFile, stringify([peer(1), peer(2)]));
  const port = await freePort('127.0.0.1');
  const configFile = join(dir, 'controller.yaml');
  await writeFile(
    configFile,
    stringify({ listenAddress: '127.0.0.1', port, heartbeatInterval: 200, shutdownGracePeriod: 6000, logLevel: 'info', source: { peersFile: 'peers.yaml' } }),
  );
  const controller = spawnKconmon('controller', configFile);
  const base = `http://127.0.0.1:${port}`;
  /** What each agent's real controller client saw, in order; the test's own steps are written into both. */
  const events: Record<'before' | 'during', string[]> = { before: [], during: [] };
  const clients: ControllerClient[] = [];
  const connect = (which: 'before' | 'during', node: string) =>
    clients.push(
      startControllerClient({
        urls: [base],
        nodeName: node,
        podName: node,
        // No reconnect within the test: everything a client receives comes over the one stream it opened.
        reconnect: { min: 600_000, max: 600_000 },
        log: pino({ level: 'silent' }),
        onUpdate: ({ agents }) => events[which].push(`list ${agents.map((agent) => agent.name).join(',')}`),
        onConnection: ({ connected }) => events[which].push(connected ? 'connected' : 'disconnected'),
      }),
    );
  const step = (name: string) => {
    events.before.push(name);
    events.during.push(name);
  };
  const seen = () => JSON.stringify(events, null, 1);
  try {
    await waitUntil(`the controller ready:\n${controller.output()}`, 15_000, async () => (await get(`${base}/readyz`)).status === 200);
    connect('before', 'node-1');
    await waitUntil(`the first list:\n${seen()}\n${controller.output()}`, 15_000, () => events.before.includes('connected'));

    controller.child.kill('SIGTERM');
    step('SIGTERM');
    await waitUntil(`the signal handled:\n${controller.output()}`, 5000, () => controller.output().includes('"msg":"shutting down"'));
    assert.deepEqual(await get(`${base}/readyz`), { status: 503, body: 'shutting down' }, `unready at once:\n${controller.output()}`);
    // An agent sent here meanwhile (a Service that has not caught up yet) is still served.
    connect('during', 'node-9');
    await waitUntil(`a stream opened during the grace period:\n${seen()}\n${controller.output()}`, 3000, () => events.during.includes('connected'));
    step('change');
    await writeFile(peersFile, stringify([peer(1), peer(2), peer(3)]));
    const changed = (list: string[]) => list.includes('list agent-1,agent-2,agent-3');
    await waitUntil(`the change on both streams:\n${seen()}\n${controller.output()}`, 3000, () => changed(events.before) && changed(events.during));

    assert.equal(await controller.exited, 0, controller.output());
    await waitUntil(`the streams closed:\n${seen()}`, 5000, () => events.before.includes('disconnected') && events.during.includes('disconnected'));
    assert.deepEqual(events, {
      before: ['list agent-1,agent-2', 'connected', 'SIGTERM', 'change', 'list agent-1,agent-2,agent-3', 'disconnected'],
      during: ['SIGTERM', 'list agent-1,agent-2', 'connected', 'change', 'list agent-1,agent-2,agent-3', 'disconnected'],
    });
    assert.deepEqual(
      clients.map((client) => client.stats().streams),
      [1, 1],
      'one stream per agent, each until the end',
    );
    assert.match(controller.output(), /still serving agent streams during the grace period/);
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await controller.stop();
  }
});
