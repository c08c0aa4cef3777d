// The agent's UDP sockets are sized for a burst: a real `kconmon agent` process's echo socket and probe socket each
// hold a receive buffer of 1 MiB asked (Linux doubles it; capped by net.core.rmem_max), read from the kernel with
// `ss -m` — not the kernel default (208 KiB), which filled and dropped echoes while a scrape held the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnKconmon } from '../helpers/kconmon-cli.ts';
import { waitUntil } from '../../harness/wait.ts';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { skipOption } from '../harness/require.ts';

const AGENT = '127.0.71.1';
const ASKED = 1024 * 1024;

/** Receive buffer sizes (skmem rb) of the UDP sockets bound to `address`, by local port. */
function receiveBuffers(address: string): Map<number, number> {
  const output = execFileSync('ss', ['-u', '-a', '-m', '-n', 'src', address], { encoding: 'utf8' });
  const buffers = new Map<number, number>();
  let port: number | undefined;
  for (const line of output.split('\n')) {
    const local = new RegExp(`${address.replaceAll('.', '\\.')}:(\\d+)`).exec(line);
    if (local) port = Number(local[1]);
    const rb = /skmem:\(r\d+,rb(\d+),/.exec(line);
    if (rb && port !== undefined) buffers.set(port, Number(rb[1]));
  }
  return buffers;
}

test('the echo and probe sockets of a real agent have the receive buffer they asked for', {
  skip: skipOption(hasSs() ? undefined : 'needs ss (iproute2)'),
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-rcvbuf-'));
  const port = await findSharedPort([AGENT]);
  // One peer where nothing listens: its probes fail, which does not matter; the probe socket opens with the first one.
  const peers = [{ name: 'kconmon-b', nodeName: 'node-b', ip: '127.0.71.2', zone: 'zone-a' }];
  await writeFile(join(dir, 'peers.json'), JSON.stringify(peers));
  const config = {
    port,
    listenAddress: AGENT,
    logLevel: 'warn',
    dns: { enabled: false },
    udp: { interval: 1000 },
    discovery: { peersFile: join(dir, 'peers.json'), newPeerDelay: 0 },
  };
  await writeFile(join(dir, 'agent.yaml'), JSON.stringify(config));
  const agent = spawnKconmon('agent', join(dir, 'agent.yaml'), { NODE_NAME: 'node-a', POD_NAME: 'kconmon-a', POD_IP: AGENT, ZONE: 'zone-a' });
  try {
    await waitUntil(`echo and probe sockets bound (output: ${agent.output()})`, 20_000, () => receiveBuffers(AGENT).size >= 2);
    const rmemMax = Number((await readFile('/proc/sys/net/core/rmem_max', 'utf8')).trim());
    // Linux doubles SO_RCVBUF for its bookkeeping, after capping the request at rmem_max.
    const expected = 2 * Math.min(ASKED, rmemMax);
    const buffers = receiveBuffers(AGENT);
    assert.ok(buffers.has(port), `the echo socket on ${port}: ${JSON.stringify([...buffers])}`);
    for (const [socketPort, size] of buffers) assert.equal(size, expected, `socket ${AGENT}:${socketPort}`);
  } finally {
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

function hasSs(): boolean {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
