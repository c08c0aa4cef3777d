// Tests the real `kconmon` CLI (src/cli.ts) as a child process: `check-config FILE [--peers FILE]` prints `FILE: ok`
// and exits 0 for good files, exits 2 with the field-naming message on stderr for a bad config or peers file and with
// the command's usage for bad arguments; `agent` with a bad config (or bad environment) exits 2 with the message, never starting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runKconmon as kconmon } from '../helpers/kconmon-cli.ts';

const GOOD = join(ROOT, 'test', 'fixtures', 'config', 'good');
const BAD = join(ROOT, 'test', 'fixtures', 'config', 'bad');

const USAGE_HEAD = 'usage: kconmon <command> [options]';
const CHECK_CONFIG_USAGE = 'usage: kconmon check-config FILE [--peers FILE] [--controller]';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kconmon-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const PEERS = '- {name: kconmon-a, nodeName: node-a, ip: 10.0.0.1, zone: z1}\n- {name: kconmon-b, nodeName: node-b, ip: 10.0.0.2, zone: z2}\n';
const BAD_PEERS = '- {name: kconmon-a, nodeName: node-a, ip: 10.0.0.1}\n- {name: kconmon-b, nodeName: node-b, ip: node-b.local}\n';

describe('kconmon check-config', { concurrency: true }, () => {
  it('exits 0 and prints ok for a good config and the peers file it names (resolved next to the config)', async () => {
    const sub = mkdtempSync(join(dir, 'good-'));
    const config = join(sub, 'config.yaml');
    copyFileSync(join(GOOD, 'minimal.yaml'), config);
    writeFileSync(join(sub, 'peers.yaml'), PEERS);
    const run = await kconmon(['check-config', config]);
    assert.deepEqual(run, { code: 0, signal: null, stdout: `${config}: ok\n${join(sub, 'peers.yaml')}: ok (2 peers)\n`, stderr: '' });
  });

  it('exits 0 and prints only `FILE: ok` for a good config without a peers file (controller discovery)', async () => {
    const config = join(GOOD, 'controller.yaml');
    assert.deepEqual(await kconmon(['check-config', config]), { code: 0, signal: null, stdout: `${config}: ok\n`, stderr: '' });
  });

  it('with --peers, checks that peers file instead', async () => {
    const sub = mkdtempSync(join(dir, 'override-'));
    const peers = join(sub, 'other-peers.json');
    writeFileSync(peers, JSON.stringify([{ name: 'p', nodeName: 'n', ip: '::1' }]));
    const config = join(GOOD, 'full.yaml');
    assert.deepEqual(await kconmon(['check-config', config, '--peers', peers]), {
      code: 0,
      signal: null,
      stdout: `${config}: ok\n${peers}: ok (1 peers)\n`,
      stderr: '',
    });
  });

  it('exits 2 with the field-naming message on stderr for a bad config', async () => {
    const config = join(BAD, 'udp-packets-below-min.yaml');
    assert.deepEqual(await kconmon(['check-config', config]), {
      code: 2,
      signal: null,
      stdout: '',
      stderr: `${config}: invalid configuration\n  udp.packets: must be ≥ 1\n`,
    });
  });

  it('reports every problem of a config with several', async () => {
    const config = join(BAD, 'several-problems.yaml');
    const run = await kconmon(['check-config', config]);
    assert.equal(run.code, 2);
    const [first, ...rest] = run.stderr.trimEnd().split('\n');
    assert.equal(first, `${config}: invalid configuration`);
    assert.deepEqual(rest.sort(), [
      '  dns.targets[1].type: must be A or AAAA',
      '  extra: unknown key',
      '  logLevel: must be one of fatal, error, warn, info, debug, trace, silent',
      '  tcp.enabled: must be true or false',
      '  udp.packets: must be ≥ 1',
    ]);
  });

  it('exits 2 naming the line for invalid YAML', async () => {
    const config = join(BAD, 'yaml-duplicate-key.yaml');
    const run = await kconmon(['check-config', config]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${config}: invalid configuration\n  not valid YAML: Map keys must be unique at line 4, column 1:\n`);
  });

  it('exits 2 for a config file that does not exist', async () => {
    const config = join(dir, 'no-such-config.yaml');
    const run = await kconmon(['check-config', config]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${config}: invalid configuration\n  cannot read: ENOENT\n`);
  });

  it('exits 2 with the entry-naming message for a bad peers file named by the config', async () => {
    const sub = mkdtempSync(join(dir, 'badpeers-'));
    const config = join(sub, 'config.yaml');
    copyFileSync(join(GOOD, 'minimal.yaml'), config);
    writeFileSync(join(sub, 'peers.yaml'), BAD_PEERS);
    const run = await kconmon(['check-config', config]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${join(sub, 'peers.yaml')}: invalid peers file\n  peers[1].ip: must be an IPv4 or IPv6 address\n`);
  });

  it('exits 2 for a bad peers file given with --peers', async () => {
    const peers = join(mkdtempSync(join(dir, 'badpeers2-')), 'peers.yaml');
    writeFileSync(peers, BAD_PEERS);
    const run = await kconmon(['check-config', join(GOOD, 'controller.yaml'), '--peers', peers]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${peers}: invalid peers file\n  peers[1].ip: must be an IPv4 or IPv6 address\n`);
  });

  it('exits 2 when the peers file the config names is missing', async () => {
    const sub = mkdtempSync(join(dir, 'nopeers-'));
    const config = join(sub, 'config.yaml');
    copyFileSync(join(GOOD, 'minimal.yaml'), config);
    const run = await kconmon(['check-config', config]);
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `${join(sub, 'peers.yaml')}: invalid peers file\n  cannot read: ENOENT\n`);
  });

  it('exits 2 with the usage when FILE is missing', async () => {
    const run = await kconmon(['check-config']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.startsWith(`kconmon: check-config takes exactly one FILE\n\n${CHECK_CONFIG_USAGE}\n`), run.stderr);
  });

  it('exits 2 with the usage for an extra argument', async () => {
    const run = await kconmon(['check-config', join(GOOD, 'controller.yaml'), 'extra.yaml']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.startsWith(`kconmon: check-config takes exactly one FILE\n\n${CHECK_CONFIG_USAGE}\n`), run.stderr);
  });

  it('exits 2 with the usage for an unknown option', async () => {
    const run = await kconmon(['check-config', join(GOOD, 'controller.yaml'), '--bogus']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^kconmon: .*--bogus/);
    assert.ok(run.stderr.includes(CHECK_CONFIG_USAGE), run.stderr);
  });

  it('exits 2 with the usage when --peers has no value', async () => {
    const run = await kconmon(['check-config', join(GOOD, 'controller.yaml'), '--peers']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^kconmon: .*--peers/);
    assert.ok(run.stderr.includes(CHECK_CONFIG_USAGE), run.stderr);
  });
});

describe('kconmon agent with bad configuration', { concurrency: true }, () => {
  it('--config BAD exits 2 with the message and does not start', async () => {
    const config = join(BAD, 'tcp-timeout-exceeds-interval.yaml');
    assert.deepEqual(await kconmon(['agent', '--config', config]), {
      code: 2,
      signal: null,
      stdout: '',
      stderr: `${config}: invalid configuration\n  tcp.timeout: must be < tcp.interval (5000)\n`,
    });
  });

  it('-c BAD (short option) does the same', async () => {
    const config = join(BAD, 'discovery-both.yaml');
    const run = await kconmon(['agent', '-c', config]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, `${config}: invalid configuration\n  discovery: set exactly one of discovery.peersFile or discovery.controller\n`);
  });

  it('KCONMON_CONFIG=BAD exits 2 with the message', async () => {
    const config = join(BAD, 'udp-window-equals-interval.yaml');
    const run = await kconmon(['agent'], { KCONMON_CONFIG: config });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `${config}: invalid configuration\n  udp.interval: must be > (packets − 1) × packetSpacing + timeout = 450 ms, so rounds to one peer never overlap\n`,
    );
  });

  it('a bad POD_IP exits 2 naming the variable, before anything starts', async () => {
    const run = await kconmon(['agent', '--config', join(GOOD, 'controller.yaml')], { POD_IP: 'not-an-ip' });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.equal(run.stderr, 'environment: invalid configuration\n  env POD_IP: must be an IPv4 or IPv6 address (got "not-an-ip")\n');
  });

  it('an unknown command exits 2 with the usage', async () => {
    const run = await kconmon(['agnet']);
    assert.equal(run.code, 2);
    assert.ok(run.stderr.startsWith(`kconmon: unknown command "agnet"\n\n${USAGE_HEAD}\n`), run.stderr);
  });
});
