// Who may watch the controller: real controller and agent processes over real HTTP(S). Without the shared token, or
// with a wrong one, a watcher gets 401 and is not counted as a connected agent; past the stream cap it gets 503 (and
// is counted as refused); a real agent with the token connects, over HTTPS with the controller's CA pinned, while a
// client pinning another CA refuses the controller; a malformed %-escape in /agent/<pod> is a 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { startControllerClient } from '../../src/discovery/controller-client.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition } from '../../harness/exposition.ts';
import { freePort } from '../../harness/ports.ts';
import { spawnKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';
import { createServerCert, createTestCa, opensslUnavailable } from '../helpers/test-certs.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const TOKEN = 'k8s-secret-token-0123456789abcdef';
const PEERS = [1, 2].map((index) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${index}`, zone: 'zone-a' }));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kconmon-auth-'));
  await writeFile(join(dir, 'token'), `${TOKEN}\n`);
  await writeFile(join(dir, 'peers.yaml'), stringify(PEERS));
});
after(() => rm(dir, { recursive: true, force: true }));

interface RunningController {
  readonly process: KconmonProcess;
  readonly url: string;
  readonly ca?: Buffer;
}

/** A controller process with the token; `tls` names the server certificate files. */
async function startControllerProcess(
  name: string,
  extra: Record<string, unknown>,
  scheme: 'http' | 'https' = 'http',
  ca?: Buffer,
): Promise<RunningController> {
  const port = await freePort();
  const configFile = join(dir, `${name}.yaml`);
  const config = {
    listenAddress: '127.0.0.1',
    port,
    heartbeatInterval: 200,
    logLevel: 'info',
    auth: { tokenFile: 'token' },
    source: { peersFile: 'peers.yaml' },
    ...extra,
  };
  await writeFile(configFile, stringify(config));
  const controller = spawnKconmon('controller', configFile);
  const url = `${scheme}://127.0.0.1:${port}`;
  await waitUntil(`${name} to be ready`, 15_000, async (note) => {
    note(controller.output());
    return (await get(url, '/readyz', {}, ca).catch(() => undefined))?.status === 200;
  });
  return { process: controller, url, ...(ca !== undefined ? { ca } : {}) };
}

/** One GET; resolves with the status and body (no connection reuse). */
function get(base: string, path: string, headers: http.OutgoingHttpHeaders = {}, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const options = { agent: false as const, headers, ...(ca !== undefined ? { ca } : {}) };
    const request = (url.protocol === 'https:' ? https : http).get(url, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

/** A watch that stays open; resolves once the response head (and, for 200, the snapshot line) arrived. */
function openWatch(base: string, node: string, headers: http.OutgoingHttpHeaders): Promise<{ status: number; request: http.ClientRequest }> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(`/v1/watch?node=${node}&pod=${node}`, base), { agent: false, headers }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return resolve({ status: response.statusCode ?? 0, request });
      }
      response.setEncoding('utf8');
      response.once('data', () => resolve({ status: 200, request }));
    });
    request.on('error', reject);
  });
}

async function metric(base: string, name: string, labels: Record<string, string> = {}, ca?: Buffer): Promise<number | undefined> {
  const { body } = await get(base, '/metrics', {}, ca);
  return parseExposition(body).find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

test('without the token or with a wrong one: 401, not counted; past the stream cap: 503; a bad %-escape: 400', async () => {
  const controller = await startControllerProcess('cap', { maxAgentStreams: 2 });
  const watches: http.ClientRequest[] = [];
  try {
    assert.equal((await openWatch(controller.url, 'node-1', {})).status, 401, 'no token');
    assert.equal((await openWatch(controller.url, 'node-1', { authorization: 'Bearer not-the-token' })).status, 401, 'a wrong token');
    assert.equal((await openWatch(controller.url, 'node-1', { authorization: `Basic ${TOKEN}` })).status, 401, 'not a bearer token');
    assert.equal((await get(controller.url, '/agents')).status, 401, 'the agent list needs the token too');
    assert.equal(await metric(controller.url, 'kconmon_controller_connected_agents'), 0, 'refused watchers are not counted');
    assert.equal(await metric(controller.url, 'kconmon_controller_watch_rejected_total', { reason: 'unauthorized' }), 3);

    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const node of ['node-1', 'node-2']) {
      const watch = await openWatch(controller.url, node, auth);
      watches.push(watch.request);
      assert.equal(watch.status, 200);
    }
    assert.equal(await metric(controller.url, 'kconmon_controller_connected_agents'), 2);
    const third = await openWatch(controller.url, 'node-3', auth);
    watches.push(third.request);
    assert.equal(third.status, 503, 'past maxAgentStreams');
    assert.equal(await metric(controller.url, 'kconmon_controller_watch_rejected_total', { reason: 'over_capacity' }), 1);
    assert.equal(await metric(controller.url, 'kconmon_controller_connected_agents'), 2);

    const malformed = await get(controller.url, '/agent/%E0%A4%A', auth);
    assert.equal(malformed.status, 400, malformed.body);
    assert.equal((await get(controller.url, '/agent/agent-2', auth)).status, 200);
    assert.equal(controller.process.child.exitCode, null, 'the controller is still running');
  } finally {
    for (const watch of watches) watch.destroy();
    await controller.process.stop();
  }
});

test('a real agent with the token connects over HTTPS with the controller CA pinned; another CA is refused', async (t) => {
  if (!skipUnlessAvailable(t, opensslUnavailable())) return;
  const ca = createTestCa(dir, 'ca');
  const otherCa = createTestCa(dir, 'other-ca');
  const server = createServerCert(dir, ca, 'controller', { ips: ['127.0.0.1'], dns: ['localhost'] });
  const caPem = await readFile(ca.certFile);
  const controller = await startControllerProcess('tls', { tls: { certFile: server.certFile, keyFile: server.keyFile } }, 'https', caPem);

  const agentPort = await freePort('127.0.0.1');
  const agentConfig = join(dir, 'agent.yaml');
  await writeFile(
    agentConfig,
    stringify({
      listenAddress: '127.0.0.1',
      port: agentPort,
      logLevel: 'info',
      shutdownGracePeriod: 0,
      dns: { enabled: false },
      discovery: { newPeerDelay: 0, controller: { urls: [controller.url], tokenFile: 'token', caFile: ca.certFile, reconnectMin: 50, reconnectMax: 200 } },
    }),
  );
  const agent = spawnKconmon('agent', agentConfig, { NODE_NAME: 'node-1', POD_NAME: 'agent-1', POD_IP: '127.0.0.1', ZONE: '' });

  const refusals: string[] = [];
  const pinnedElsewhere = startControllerClient({
    urls: [controller.url],
    nodeName: 'node-9',
    podName: 'agent-9',
    reconnect: { min: 20, max: 50 },
    token: async () => TOKEN,
    ca: await readFile(otherCa.certFile),
    log: pino({ level: 'warn' }, { write: (line: string) => refusals.push(line) }),
    onUpdate: () => assert.fail('a client pinning another CA must not accept this controller'),
  });
  try {
    const agentPeers = () => metric(`http://127.0.0.1:${agentPort}`, 'kconmon_agent_peers').catch(() => undefined);
    await waitUntil(`the agent's peer from the controller:\n${agent.output()}`, 15_000, async () => (await agentPeers()) === 1);
    assert.match(agent.output(), /connected to controller/);
    await waitUntil('two refused attempts by the client pinning another CA', 10_000, () => refusals.length >= 2);
    assert.match(refusals.join('\n'), /certificate/i);
    assert.equal(pinnedElsewhere.connected(), false);
    assert.equal(await metric(controller.url, 'kconmon_controller_connected_agents', {}, caPem), 1, 'only the real agent is connected');
  } finally {
    await pinnedElsewhere.close();
    await agent.stop();
    await controller.process.stop();
  }
});

test('a missing token file stops the controller and the agent at start-up with one line naming the option', async () => {
  const controllerConfig = join(dir, 'no-token-controller.yaml');
  await writeFile(controllerConfig, stringify({ listenAddress: '127.0.0.1', auth: { tokenFile: 'missing-token' }, source: { peersFile: 'peers.yaml' } }));
  const controller = spawnKconmon('controller', controllerConfig);
  assert.equal(await controller.exited, 2);
  assert.match(controller.output(), /auth\.tokenFile: token file .*missing-token: cannot read: ENOENT/);

  const agentConfig = join(dir, 'no-token-agent.yaml');
  const discovery = { controller: { urls: ['http://127.0.0.1:1'], tokenFile: 'missing-token' } };
  await writeFile(agentConfig, stringify({ listenAddress: '127.0.0.1', discovery }));
  const agent = spawnKconmon('agent', agentConfig, { NODE_NAME: 'node-1', POD_IP: '127.0.0.1' });
  assert.equal(await agent.exited, 2);
  assert.match(agent.output(), /discovery\.controller\.tokenFile: token file .*missing-token: cannot read: ENOENT/);
});
