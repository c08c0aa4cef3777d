// The agent's controller client against a hostile controller: a real HTTP server scripted to send what a broken or
// forged controller might (a 50 MB line, bytes trickled without a line, heartbeats without a snapshot, a version
// regression, duplicate names), and a real controller announcing a slow heartbeat. The client must reject each with
// one log line naming the problem, keep its last good list, fail over, and never churn on a slow heartbeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { pino } from 'pino';
import { startController, type Controller } from '../../src/controller/controller.ts';
import { parseControllerConfig } from '../../src/config/load.ts';
import { startControllerClient, type AgentSetUpdate, type ControllerClientOptions } from '../../src/discovery/controller-client.ts';
import { MAX_MESSAGE_BYTES, WATCH_PATH } from '../../src/protocol/agent-stream.ts';
import { createLogger } from '../../src/log.ts';
import { waitUntil } from '../../harness/wait.ts';

const silent = createLogger('silent');
const entry = (index: number) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${index}`, zone: 'z', ready: true });
const snapshotLine = (version: number, agents: unknown[], controller = 'hostile') =>
  `${JSON.stringify({ type: 'snapshot', version, controller, self: { nodeName: 'node-1', zone: 'z' }, agents })}\n`;

interface Hostile {
  readonly url: string;
  /** Watch requests received, in order. */
  readonly connections: () => number;
  close(): Promise<void>;
}

/** A server answering every watch with `script(connectionNumber, response)`; other paths 404. */
async function startHostile(script: (connection: number, response: http.ServerResponse) => void): Promise<Hostile> {
  let connections = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    if (!request.url?.startsWith(WATCH_PATH)) {
      response.writeHead(404).end();
      return;
    }
    connections++;
    script(connections, response);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => connections,
    async close() {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `line` every `everyMs` until the response closes. */
function repeat(response: http.ServerResponse, everyMs: number, line: string): void {
  const timer = setInterval(() => response.write(line), everyMs);
  response.on('close', () => clearInterval(timer));
}

/** A real controller (peers-file discovery) serving agent-1 and agent-2. */
async function startGoodController(dir: string, heartbeatInterval = 200, token?: string): Promise<{ controller: Controller; url: string }> {
  const file = join(dir, 'peers.yaml');
  await writeFile(file, stringify([1, 2].map((index) => ({ name: `agent-${index}`, nodeName: `node-${index}`, ip: `127.0.0.${index}`, zone: 'z' }))));
  if (token !== undefined) await writeFile(join(dir, 'token'), token);
  const auth = token !== undefined ? { tokenFile: join(dir, 'token') } : {};
  const config = parseControllerConfig({ listenAddress: '127.0.0.1', logLevel: 'silent', heartbeatInterval, auth, source: { peersFile: file } }, 'test');
  const controller = await startController({ config, log: silent, processMetrics: false });
  await controller.synced;
  return { controller, url: `http://127.0.0.1:${controller.port}` };
}

/** The real client with its warnings captured. */
function client(urls: string[], overrides: Partial<ControllerClientOptions> = {}) {
  const lines: string[] = [];
  const updates: AgentSetUpdate[] = [];
  const instance = startControllerClient({
    urls,
    nodeName: 'node-1',
    podName: 'agent-1',
    reconnect: { min: 20, max: 100 },
    startIndex: 0,
    log: pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }),
    onUpdate: (update) => updates.push(update),
    ...overrides,
  });
  return { instance, updates, warnings: () => lines.join('\n') };
}

test('a 50 MB line is rejected having buffered at most the message cap, and the stream is closed before it is sent', async () => {
  const total = 50 * 1024 * 1024;
  let written = 0;
  const hostile = await startHostile((_connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    chunk[0] = '['.charCodeAt(0);
    // Honours backpressure: a byte counts as sent only once the socket took it.
    const pump = () => {
      while (written < total && !response.destroyed) {
        written += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
    };
    pump();
  });
  const agent = client([hostile.url], { reconnect: { min: 60_000, max: 60_000 } });
  try {
    await waitUntil('the oversized line to be rejected', 30_000, () => agent.warnings().includes(`a message exceeds ${MAX_MESSAGE_BYTES} bytes`));
    const { peakBufferedBytes } = agent.instance.stats();
    assert.ok(peakBufferedBytes <= MAX_MESSAGE_BYTES, `buffered ${peakBufferedBytes} bytes, cap ${MAX_MESSAGE_BYTES}`);
    assert.ok(peakBufferedBytes > MAX_MESSAGE_BYTES / 2, 'it did read up to the cap before rejecting');
    assert.ok(written < total, `the client closed the stream before the whole 50 MB line was sent (${written} bytes written)`);
    assert.equal(agent.updates.length, 0, 'nothing applied');
  } finally {
    await agent.instance.close();
    await hostile.close();
  }
});

test('bytes trickled without ever completing a line: the stream is declared dead and the agent fails over', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-hostile-'));
  const good = await startGoodController(dir);
  const hostile = await startHostile((_connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    response.write(snapshotLine(1, [entry(2)]));
    repeat(response, 50, ' '); // a byte every 50 ms, never a newline: no message ever completes
  });
  const agent = client([hostile.url, good.url], { silenceTimeoutMs: 500 });
  try {
    await waitUntil('failover to the good controller', 10_000, () => agent.updates.at(-1)?.controller === good.controller.id);
    assert.equal(agent.updates[0]?.controller, 'hostile', 'it was first connected to the trickling controller');
    assert.match(agent.warnings(), /no complete message for 500 ms/);
    assert.equal(hostile.connections(), 1);
  } finally {
    await agent.instance.close();
    await hostile.close();
    await good.controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('heartbeats but never a snapshot: no snapshot within the deadline fails over to the next replica', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-hostile-'));
  const good = await startGoodController(dir);
  const hostile = await startHostile((_connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    repeat(response, 50, '{"type":"heartbeat","version":0}\n');
  });
  const agent = client([hostile.url, good.url], { silenceTimeoutMs: 500 });
  try {
    await waitUntil('a snapshot from the good controller', 10_000, () => agent.updates.length > 0);
    assert.equal(agent.updates[0]?.controller, good.controller.id);
    assert.equal(hostile.connections(), 1, 'the heartbeating controller was tried first');
    assert.match(agent.warnings(), /no snapshot for 500 ms/);
  } finally {
    await agent.instance.close();
    await hostile.close();
    await good.controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second snapshot with a lower version on the same stream is rejected; the last good list stands', async () => {
  const hostile = await startHostile((connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (connection === 1) {
      response.write(snapshotLine(5, [entry(2)]));
      response.write(snapshotLine(3, [entry(9)]));
    } else {
      response.write(snapshotLine(1, [entry(2), entry(4)]));
    }
  });
  const agent = client([hostile.url]);
  try {
    await waitUntil('a reconnection', 5000, () => hostile.connections() >= 2 && agent.updates.length >= 2);
    assert.deepEqual(
      agent.updates.slice(0, 2).map((update) => update.agents.map((agentEntry) => agentEntry.name)),
      [['agent-2'], ['agent-2', 'agent-4']],
    );
    assert.ok(!agent.updates.some((update) => update.agents.some((agentEntry) => agentEntry.name === 'agent-9')), 'the regressed snapshot was never applied');
    assert.match(agent.warnings(), /version regression: had 5, got snapshot 3/);
  } finally {
    await agent.instance.close();
    await hostile.close();
  }
});

test('duplicate agent names in a snapshot or within one change are rejected with a line naming the name', async () => {
  const hostile = await startHostile((connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (connection === 1) {
      response.write(snapshotLine(1, [entry(2), { ...entry(3), name: 'agent-2' }]));
      return;
    }
    response.write(snapshotLine(1, [entry(2)]));
    const change = (upsert: unknown[], remove: string[]) => `${JSON.stringify({ type: 'change', version: 2, upsert, remove })}\n`;
    if (connection === 2) response.write(change([entry(5), { ...entry(6), name: 'agent-5' }], []));
    if (connection === 3) response.write(change([entry(7)], ['agent-7']));
  });
  const agent = client([hostile.url]);
  try {
    await waitUntil('a fourth, clean stream', 5000, () => hostile.connections() >= 4 && agent.updates.length >= 3);
    // Connection 1 applied nothing; 2, 3 and 4 applied only their snapshot.
    assert.deepEqual(
      agent.updates.slice(0, 3).map((update) => update.agents.map((agentEntry) => agentEntry.name)),
      [['agent-2'], ['agent-2'], ['agent-2']],
    );
    const warnings = agent.warnings();
    assert.match(warnings, /agents\[1\]: duplicate agent name \\"agent-2\\" in the snapshot \(also agents\[0\]\)/);
    assert.match(warnings, /upsert\[1\]: duplicate agent name \\"agent-5\\" in the change \(also upsert\[0\]\)/);
    assert.match(warnings, /remove\[0\]: duplicate agent name \\"agent-7\\" in the change \(also upsert\[0\]\)/);
  } finally {
    await agent.instance.close();
    await hostile.close();
  }
});

test('a controller announcing a slow heartbeat: the agent stays on one stream across heartbeats (no reconnect churn)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-hostile-'));
  const heartbeatMs = 1000;
  const good = await startGoodController(dir, heartbeatMs);
  // The fallback liveness (for a controller that announces nothing) is shorter than the heartbeat on purpose.
  const agent = client([good.url], { silenceTimeoutMs: 300 });
  const heartbeats: string[] = [];
  let announced: string | string[] | undefined;
  const observer = http.get(`${good.url}${WATCH_PATH}?node=observer`, (response) => {
    announced = response.headers['x-kconmon-heartbeat-ms'];
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => heartbeats.push(...chunk.split('\n').filter((line) => line.includes('"heartbeat"'))));
  });
  observer.on('error', () => {});
  try {
    await waitUntil('the connection', 5000, () => agent.instance.connected());
    await waitUntil('three heartbeats on another stream', 10_000, () => heartbeats.length >= 3);
    assert.ok(agent.instance.connected());
    assert.equal(agent.updates.length, 1, 'one snapshot: the agent never reconnected');
    assert.equal(agent.instance.stats().streams, 1);
    assert.doesNotMatch(agent.warnings(), /stream failed|closed the stream/);
    assert.equal(announced, String(heartbeatMs), 'the controller announces its heartbeat');
  } finally {
    observer.destroy();
    await agent.instance.close();
    await good.controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an agent holding a token trusts only a controller that proves it holds the same token', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-hostile-'));
  const token = 'shared-token-for-the-proof-test';
  const good = await startGoodController(dir, 200, token);
  // Answers at a controller URL with a well-formed stream, but cannot know the token: no proof, then a made-up one.
  const hostile = await startHostile((connection, response) => {
    response.writeHead(200, { 'content-type': 'application/x-ndjson', ...(connection > 1 ? { 'x-kconmon-proof': 'ab'.repeat(32) } : {}) });
    response.write(snapshotLine(1, [entry(9)]));
  });
  const agent = client([hostile.url, hostile.url, good.url], { token: async () => token });
  try {
    await waitUntil('a snapshot from the real controller', 5000, () => agent.updates.length > 0);
    assert.equal(hostile.connections(), 2, 'both impostor streams were tried first');
    assert.ok(
      agent.updates.every((update) => update.controller === good.controller.id),
      'nothing from the impostor was applied',
    );
    assert.equal(agent.warnings().match(/did not prove it holds the token/g)?.length, 2);
  } finally {
    await agent.instance.close();
    await hostile.close();
    await good.controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
