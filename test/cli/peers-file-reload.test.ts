// Tests how the real `kconmon` processes (src/cli.ts as child processes, default timings) re-read a peers file: an agent
// whose file is rewritten in place in two writes with a pause (an editor, `cat >`) never applies the half-written
// file, which parses as a shorter list (before: peers removed and re-added, their counters restarted); a controller
// started with a bad file logs it, stays unready, and becomes ready with the list as soon as the file is fixed
// (before: unready forever, the file never re-read).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { waitUntil } from '../../harness/wait.ts';
import { startKconmon } from '../helpers/kconmon-cli.ts';

const AGENT = '127.0.63.1';
const CONTROLLER = '127.0.63.2';
/** Longer than the 500 ms the peers file was polled at before (so that poll always saw the half-written file), well
 * below the 1 s the file must now be left alone before it is read. */
const PAUSE_BETWEEN_WRITES_MS = 600;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kconmon-peers-reload-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Peers on addresses where nothing listens (tests to them fail, which does not matter here), YAML, one per line. */
const peerLines = (...names: string[]) => names.map((name, i) => `- {name: kconmon-${name}, nodeName: ${name}, ip: 127.0.63.${10 + i}}\n`).join('');

interface LogLine {
  msg?: string;
  added?: string[];
  removed?: string[];
  problems?: string[];
}

const logLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

describe('peers file re-reading by the real processes', { concurrency: true }, () => {
  it('an agent never applies its peers file half-written: no peer is removed', async () => {
    const port = await findSharedPort([AGENT]);
    const peersFile = join(dir, 'agent-peers.yaml');
    writeFileSync(peersFile, peerLines('node-1', 'node-2', 'node-3', 'node-4'));
    const config = join(dir, 'agent.yaml');
    const settings = { port, listenAddress: AGENT, logLevel: 'info', dns: { enabled: false }, discovery: { peersFile: 'agent-peers.yaml' } };
    writeFileSync(config, JSON.stringify(settings));
    const agent = await startKconmon('agent', config, `http://${AGENT}:${port}/healthz`, { NODE_NAME: 'node-0', POD_IP: AGENT });
    const changes = () => logLines(agent.output()).filter((line) => line.msg === 'peer set changed');
    try {
      await waitUntil('the initial peer set', 10_000, () => changes().length === 1);
      // Rewritten in place: truncated and the first two entries written, then the rest (one more peer) after a pause.
      const full = peerLines('node-1', 'node-2', 'node-3', 'node-4', 'node-5');
      const cut = full.indexOf('- {name: kconmon-node-3');
      writeFileSync(peersFile, full.slice(0, cut));
      await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_WRITES_MS));
      appendFileSync(peersFile, full.slice(cut));
      await waitUntil('node-5 to be added', 10_000, () => changes().some((line) => line.added?.includes('node-5')));
      assert.deepEqual(
        changes().map((line) => ({ added: line.added, removed: line.removed })),
        [
          { added: ['node-1', 'node-2', 'node-3', 'node-4'], removed: [] },
          { added: ['node-5'], removed: [] },
        ],
      );
    } finally {
      await agent.kill();
    }
  });

  it('a controller started with a bad peers file logs it, stays unready, and is ready as soon as the file is fixed', async () => {
    const port = await findSharedPort([CONTROLLER]);
    const peersFile = join(dir, 'controller-peers.yaml');
    writeFileSync(peersFile, '- {name: kconmon-node-1, nodeName: node-1, ip: node-1.local}\n');
    const config = join(dir, 'controller.yaml');
    writeFileSync(config, JSON.stringify({ port, listenAddress: CONTROLLER, logLevel: 'info', source: { peersFile: 'controller-peers.yaml' } }));
    const base = `http://${CONTROLLER}:${port}`;
    const controller = await startKconmon('controller', config, `${base}/healthz`);
    try {
      await waitUntil('the problem to be logged', 10_000, () => logLines(controller.output()).some((line) => line.problems !== undefined));
      assert.deepEqual(logLines(controller.output()).find((line) => line.problems !== undefined)?.problems, ['peers[0].ip: must be an IPv4 or IPv6 address']);
      assert.equal((await fetch(`${base}/readyz`)).status, 503, 'not ready on a bad file');

      writeFileSync(peersFile, peerLines('node-1', 'node-2'));
      await waitUntil('the controller to become ready', 10_000, async () => (await fetch(`${base}/readyz`)).status === 200);
      const agents = (await (await fetch(`${base}/agents`)).json()) as Array<{ nodeName: string }>;
      assert.deepEqual(
        agents.map((entry) => entry.nodeName),
        ['node-1', 'node-2'],
      );
      assert.ok(controller.alive());
    } finally {
      await controller.kill();
    }
  });
});
