// The agent sets the V8 flags it needs itself: a real `kconmon agent` process re-executes in place (same PID) with
// --max-semi-space-size=1 --optimize-for-size on its command line, also when the user's NODE_OPTIONS sets something else (which used to
// replace the image's NODE_OPTIONS and silently drop the flag), and leaves a user's own semi-space setting alone; the
// controller with --max-semi-space-size=1 --heap-growing-percent=50.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnKconmon } from '../helpers/kconmon-cli.ts';
import { waitUntil } from '../../harness/wait.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';

async function agentCommandLine(nodeOptions: string | undefined): Promise<{ samePid: boolean; args: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-flags-'));
  const port = await findSharedPort(['127.0.0.1']);
  await writeFile(join(dir, 'peers.json'), '[]');
  await writeFile(
    join(dir, 'agent.yaml'),
    `port: ${port}\nlistenAddress: 127.0.0.1\ndns: {enabled: false}\ndiscovery: {peersFile: ${join(dir, 'peers.json')}}\n`,
  );
  const env = { NODE_NAME: 'node-a', POD_NAME: 'pod-a', POD_IP: '127.0.0.1', ZONE: 'zone-a', NODE_OPTIONS: nodeOptions };
  const agent = spawnKconmon('agent', join(dir, 'agent.yaml'), env);
  try {
    await waitUntil(`agent healthy (output: ${agent.output()})`, 20_000, async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    });
    // The process answering is the one spawned: /proc/<pid> of the spawned child is the agent, re-executed in place.
    const args = (await readFile(`/proc/${agent.child.pid}/cmdline`, 'utf8')).split('\0').filter((arg) => arg !== '');
    const samePid = args.some((arg) => arg.endsWith('cli.ts')) && args.includes('agent');
    return { samePid, args };
  } finally {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

test('the agent re-executes itself with --max-semi-space-size=1 --optimize-for-size', async () => {
  const { samePid, args } = await agentCommandLine(undefined);
  assert.ok(samePid, `the spawned PID runs the agent: ${args.join(' ')}`);
  assert.ok(args.includes('--max-semi-space-size=1'), `flag on the command line: ${args.join(' ')}`);
  assert.ok(args.includes('--optimize-for-size'), `flag on the command line: ${args.join(' ')}`);
});

test("a user's NODE_OPTIONS does not drop the flag", async () => {
  const { args } = await agentCommandLine('--max-old-space-size=200');
  assert.ok(args.includes('--max-semi-space-size=1'), `flag on the command line: ${args.join(' ')}`);
});

test("a user's own semi-space size wins; the other flag is still added", async () => {
  const { samePid, args } = await agentCommandLine('--max-semi-space-size=4');
  assert.ok(samePid);
  assert.ok(!args.some((arg) => arg.startsWith('--max-semi-space-size')), `no second semi-space flag: ${args.join(' ')}`);
  assert.ok(args.includes('--optimize-for-size'), `flag on the command line: ${args.join(' ')}`);
});

test('the controller re-executes itself with --max-semi-space-size=1 --heap-growing-percent=50', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-flags-'));
  const port = await findSharedPort(['127.0.0.1']);
  await writeFile(join(dir, 'peers.json'), '[]');
  await writeFile(join(dir, 'controller.yaml'), `port: ${port}\nlistenAddress: 127.0.0.1\nsource: {peersFile: ${join(dir, 'peers.json')}}\n`);
  const controller = spawnKconmon('controller', join(dir, 'controller.yaml'));
  try {
    await waitUntil(`controller healthy (output: ${controller.output()})`, 20_000, async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    });
    const args = (await readFile(`/proc/${controller.child.pid}/cmdline`, 'utf8')).split('\0').filter((arg) => arg !== '');
    assert.ok(args.includes('controller'), `the same process: ${args.join(' ')}`);
    assert.ok(args.includes('--max-semi-space-size=1') && args.includes('--heap-growing-percent=50'), `flags on the command line: ${args.join(' ')}`);
  } finally {
    await controller.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
