// Tests that an operator's mistake stops `kconmon agent` / `kconmon controller` (the real CLI as a child process) with
// exit status 2 and the cause alone on stderr — no stack trace, nothing logged as started: a port already in use (TCP
// or UDP), a listenAddress or POD_IP that is not on this host, a bad peers file (checked before anything is bound), an
// empty dns.targets list, an unreadable kubeconfig. Every process must exit by itself: nothing bound may keep it running.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSharedPort } from '../../src/util/shared-port.ts';
import { ROOT, runKconmon, type CliRun } from '../helpers/kconmon-cli.ts';

/** TEST-NET-1 (RFC 5737): never an address of this host. */
const FOREIGN_ADDRESS = '192.0.2.1';
const LOOPBACK = '127.0.0.1';

let dir: string;
let counter = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kconmon-startup-'));
  writeFileSync(join(dir, 'peers.yaml'), `- {name: kconmon-a, nodeName: node-a, ip: ${LOOPBACK}}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config (JSON is YAML) next to peers.yaml and returns its path. */
function configFile(config: Record<string, unknown>): string {
  const path = join(dir, `config-${++counter}.yaml`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

const agentConfig = (port: number, extra: Record<string, unknown> = {}) =>
  configFile({ port, listenAddress: LOOPBACK, logLevel: 'info', dns: { enabled: false }, discovery: { peersFile: 'peers.yaml' }, ...extra });

/** The run ended by itself with status 2 and exactly `stderr`, printed nothing on stdout (nothing started). */
function assertStartupFailure(run: CliRun, stderr: string): void {
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
  assert.deepEqual(run, { code: 2, signal: null, stdout: '', stderr });
}

async function holdTcp(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: LOOPBACK, port, exclusive: true }, resolve));
  return server;
}

async function holdUdp(port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind({ address: LOOPBACK, port, exclusive: true }, resolve));
  return socket;
}

describe('kconmon agent start-up errors', { concurrency: true }, () => {
  it('HTTP port already in use: one line naming address, port and socket, exit 2', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const holder = await holdTcp(port);
    try {
      const run = await runKconmon(['agent', '--config', agentConfig(port)], { POD_IP: LOOPBACK });
      assertStartupFailure(run, `kconmon: cannot listen on ${LOOPBACK}:${port} (http): port already in use\n`);
    } finally {
      holder.close();
    }
  });

  it('UDP echo port already in use: one line, exit 2, and the HTTP port it had bound is released', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const holder = await holdUdp(port);
    try {
      const run = await runKconmon(['agent', '--config', agentConfig(port)], { POD_IP: LOOPBACK });
      assertStartupFailure(run, `kconmon: cannot listen on ${LOOPBACK}:${port} (udp echo): port already in use\n`);
      (await holdTcp(port)).close();
    } finally {
      holder.close();
    }
  });

  it('a listenAddress that is not on this host: one line, exit 2', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const run = await runKconmon(['agent', '--config', agentConfig(port, { listenAddress: FOREIGN_ADDRESS })]);
    assertStartupFailure(run, `kconmon: cannot listen on ${FOREIGN_ADDRESS}:${port} (http): address not available on this host\n`);
  });

  // Before the check the agent started and failed only when its first UDP round tried to bind the probe socket.
  it("a POD_IP that is not on this host (the probes' source address): one line, exit 2, before anything starts", async () => {
    const port = await findSharedPort([LOOPBACK]);
    const run = await runKconmon(['agent', '--config', agentConfig(port)], { POD_IP: FOREIGN_ADDRESS });
    assertStartupFailure(run, `kconmon: cannot send probes from POD_IP ${FOREIGN_ADDRESS}: address not available on this host\n`);
  });

  // Before the fix the agent bound its ports and logged "agent started" (stdout) before reading the peers file.
  it('a bad peers file is reported before anything is bound or logged', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const peers = join(dir, 'bad-peers.yaml');
    writeFileSync(peers, '- {name: kconmon-a, nodeName: node-a, ip: node-a.local}\n');
    const run = await runKconmon(['agent', '--config', agentConfig(port, { discovery: { peersFile: 'bad-peers.yaml' } })], { POD_IP: LOOPBACK });
    assertStartupFailure(run, `${peers}: invalid peers file\n  peers[0].ip: must be an IPv4 or IPv6 address\n`);
  });

  it('dns.targets: [] is rejected with how to turn DNS off', async () => {
    const config = join(ROOT, 'test', 'fixtures', 'config', 'bad', 'dns-targets-empty.yaml');
    const run = await runKconmon(['agent', '--config', config]);
    assertStartupFailure(run, `${config}: invalid configuration\n  dns.targets: must list at least one target; set dns.enabled: false to turn DNS off\n`);
  });
});

describe('kconmon controller start-up errors', { concurrency: true }, () => {
  const controllerConfig = (port: number, listenAddress = LOOPBACK) =>
    configFile({ port, listenAddress, logLevel: 'info', source: { peersFile: 'peers.yaml' } });

  it('port already in use: one line, exit 2', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const holder = await holdTcp(port);
    try {
      const run = await runKconmon(['controller', '--config', controllerConfig(port)]);
      assertStartupFailure(run, `kconmon: cannot listen on ${LOOPBACK}:${port} (http): port already in use\n`);
    } finally {
      holder.close();
    }
  });

  // Before: the kubeconfig loader's ENOENT with its stack trace, exit 1.
  it('a source.kubernetes.kubeconfig that cannot be read: one line, exit 2', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const missing = join(dir, 'no-such-kubeconfig');
    const config = configFile({ port, listenAddress: LOOPBACK, source: { kubernetes: { kubeconfig: missing } } });
    const run = await runKconmon(['controller', '--config', config]);
    assertStartupFailure(run, `kconmon: cannot load source.kubernetes.kubeconfig ${missing}: ENOENT\n`);
  });

  it('a listenAddress that is not on this host: one line, exit 2', async () => {
    const port = await findSharedPort([LOOPBACK]);
    const run = await runKconmon(['controller', '--config', controllerConfig(port, FOREIGN_ADDRESS)]);
    assertStartupFailure(run, `kconmon: cannot listen on ${FOREIGN_ADDRESS}:${port} (http): address not available on this host\n`);
  });
});
