// Real DNS servers for tests, on loopback only: unbound (the resolver under test) with local zones for pass, NXDOMAIN
// and REFUSED, and a zone forwarded to a dnsmasq that refuses everything, which unbound turns into SERVFAIL.
// All recursion is forwarded to a closed loopback port, so nothing is ever queried beyond the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { freeUdpAndTcpPort, freeUdpPort } from '../../harness/ports.ts';
import { GiveUp, waitUntil } from '../../harness/wait.ts';
import { unboundConfig } from '../../harness/unbound-config.ts';

export const TEST_ZONE = {
  pass: 'pass.kconmon.test',
  passV4: '198.18.0.5',
  passV6: '2001:db8::5',
  nxdomain: 'nx.kconmon.test',
  refused: 'ref.kconmon.test',
  servfail: 'sf.kconmon.test',
} as const;

const UNBOUND = '/usr/sbin/unbound';
const DNSMASQ = '/usr/sbin/dnsmasq';

/** Why the test resolvers cannot run here, or undefined when they can. */
export function testResolversUnavailable(): string | undefined {
  const missing = [UNBOUND, DNSMASQ].filter((path) => !existsSync(path));
  return missing.length > 0 ? `DNS test servers not installed (${missing.join(', ')}); install Debian packages unbound and dnsmasq-base` : undefined;
}

export interface TestResolvers {
  /** `127.0.0.1:port` of unbound. */
  readonly server: string;
  stop(): Promise<void>;
}

/** Start-up attempts: a port picked free can be taken by another process before the server binds it. */
const START_ATTEMPTS = 3;

export async function startTestResolvers(): Promise<TestResolvers> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTestResolversOnce();
    } catch (error) {
      if (!(error instanceof ServerExited) || attempt === START_ATTEMPTS) throw error;
    }
  }
}

/** A test DNS server exited while starting (its port was taken meanwhile); the log names why. */
class ServerExited extends GiveUp {}

async function startTestResolversOnce(): Promise<TestResolvers> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-dns-'));
  // unbound and dnsmasq listen on UDP and TCP; the closed port only has to refuse UDP.
  const [unboundPort, dnsmasqPort, closedPort] = [await freeUdpAndTcpPort(), await freeUdpAndTcpPort(), await freeUdpPort()];
  const children: ChildProcess[] = [];
  const dnsmasq = spawn(
    DNSMASQ,
    [
      '-k',
      '--no-resolv',
      '--no-hosts',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${dnsmasqPort}`,
      '--log-facility=/dev/null',
      '--pid-file=',
      '--user=root',
    ],
    { stdio: 'ignore' },
  );
  children.push(dnsmasq);
  const config = unboundConfig({
    address: '127.0.0.1',
    port: unboundPort,
    dir,
    logFile: join(dir, 'unbound.log'),
    allow: ['127.0.0.0/8'],
    localZones: [
      'local-zone: "test." nodefault',
      `local-zone: "${TEST_ZONE.pass}." static`,
      `local-data: "${TEST_ZONE.pass}. 60 IN A ${TEST_ZONE.passV4}"`,
      `local-data: "${TEST_ZONE.pass}. 60 IN AAAA ${TEST_ZONE.passV6}"`,
      `local-zone: "${TEST_ZONE.nxdomain}." always_nxdomain`,
      `local-zone: "${TEST_ZONE.refused}." always_refuse`,
    ],
    forwardZones: [{ name: `${TEST_ZONE.servfail}.`, to: `127.0.0.1@${dnsmasqPort}` }],
    closedPort,
  });
  const configFile = join(dir, 'unbound.conf');
  await writeFile(configFile, config);
  const unbound = spawn(UNBOUND, ['-d', '-c', configFile], { stdio: 'ignore' });
  children.push(unbound);
  const stop = async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  const server = `127.0.0.1:${unboundPort}`;
  // Ready when both answer.
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([server]);
  try {
    await waitUntil('the test DNS servers to answer', 10_000, async () => {
      if (unbound.exitCode !== null || dnsmasq.exitCode !== null) {
        const log = await readFile(join(dir, 'unbound.log'), 'utf8').catch(() => '');
        throw new ServerExited(`a test DNS server exited during start-up (unbound ${unbound.exitCode}, dnsmasq ${dnsmasq.exitCode}) ${log.trim()}`);
      }
      await probe.resolve4(TEST_ZONE.pass);
      await probe.resolve4(TEST_ZONE.servfail).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ESERVFAIL') throw error;
      });
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { server, stop };
}

/** A resolver on loopback that reads every query and never answers. */
export interface SilentResolver {
  /** `127.0.0.1:port`. */
  readonly server: string;
  /** Resolves once a query has arrived (at once if one already has). */
  firstQuery(): Promise<void>;
  close(): Promise<void>;
}

export async function startSilentResolver(): Promise<SilentResolver> {
  const socket = dgram.createSocket('udp4');
  let received = false;
  const waiting: (() => void)[] = [];
  socket.on('message', () => {
    received = true;
    for (const resolve of waiting.splice(0)) resolve();
  });
  await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, () => resolve()));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    firstQuery: () => (received ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve))),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
