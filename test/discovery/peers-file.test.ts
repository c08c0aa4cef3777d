// Tests static discovery's peers file (src/discovery/peers-file.ts, peer.ts): readPeersFile on good YAML/JSON lists and
// on each kind of bad entry (one message naming the entry, e.g. `peers[1].ip: …`), and watchPeersFile on a real temp
// file: initial list, good edits delivered, a bad edit logged and ignored (last good list kept), atomic replacement,
// deletion and re-creation, and close() stopping delivery.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { readPeersFile, watchPeersFile, PeersFileError } from '../../src/discovery/peers-file.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import { waitUntil } from '../../harness/wait.ts';

let dir: string;
let counter = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kconmon-peers-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh file in the temp directory holding `text`. */
function file(text: string, ext = 'yaml'): string {
  const path = join(dir, `peers-${++counter}.${ext}`);
  writeFileSync(path, text);
  return path;
}

async function problemsOf(path: string): Promise<readonly string[]> {
  try {
    await readPeersFile(path);
  } catch (error) {
    assert.ok(error instanceof PeersFileError, `expected a PeersFileError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`${path} was accepted, but should have been rejected`);
}

const TWO_PEERS_YAML = `# two agents in two zones
- name: kconmon-a
  nodeName: node-a
  ip: 10.244.0.5
  zone: europe-west2-a
- name: kconmon-b
  nodeName: node-b
  ip: fd00:10:244:1::5
`;
const TWO_PEERS: Peer[] = [
  { name: 'kconmon-a', nodeName: 'node-a', ip: '10.244.0.5', zone: 'europe-west2-a' },
  { name: 'kconmon-b', nodeName: 'node-b', ip: 'fd00:10:244:1::5', zone: 'unknown' },
];

describe('readPeersFile', () => {
  it('reads a YAML list; a missing zone defaults to unknown', async () => {
    assert.deepEqual(await readPeersFile(file(TWO_PEERS_YAML)), TWO_PEERS);
  });

  it('reads a JSON list', async () => {
    const json = JSON.stringify([
      { name: 'kconmon-a', nodeName: 'node-a', ip: '10.244.0.5', zone: 'europe-west2-a' },
      { name: 'kconmon-b', nodeName: 'node-b', ip: 'fd00:10:244:1::5' },
    ]);
    assert.deepEqual(await readPeersFile(file(json, 'json')), TWO_PEERS);
  });

  it('an empty file, a comment-only file and [] are an empty peer set', async () => {
    assert.deepEqual(await readPeersFile(file('')), []);
    assert.deepEqual(await readPeersFile(file('# no peers yet\n')), []);
    assert.deepEqual(await readPeersFile(file('[]\n')), []);
  });

  const cases: Array<[string, string, string[]]> = [
    [
      'a bad ip in the second entry',
      '- {name: a, nodeName: n1, ip: 10.0.0.1}\n- {name: b, nodeName: n2, ip: 10.0.0.256}\n',
      ['peers[1].ip: must be an IPv4 or IPv6 address'],
    ],
    ['a host name as ip', '- {name: a, nodeName: n1, ip: node-a.example}\n', ['peers[0].ip: must be an IPv4 or IPv6 address']],
    ['an ip with a port', '- {name: a, nodeName: n1, ip: "10.0.0.1:8080"}\n', ['peers[0].ip: must be an IPv4 or IPv6 address']],
    ['an ip that is a number', '- {name: a, nodeName: n1, ip: 10}\n', ['peers[0].ip: must be a string']],
    ['an unknown key', '- {name: a, nodeName: n1, ip: 10.0.0.1, podIP: 10.0.0.1}\n', ['peers[0].podIP: unknown key']],
    [
      'a duplicate name',
      '- {name: a, nodeName: n1, ip: 10.0.0.1}\n- {name: b, nodeName: n2, ip: 10.0.0.2}\n- {name: a, nodeName: n3, ip: 10.0.0.3}\n',
      ['peers[2].name: duplicate of peers[0].name "a"'],
    ],
    [
      'a duplicate nodeName',
      '- {name: a, nodeName: n1, ip: 10.0.0.1}\n- {name: b, nodeName: n1, ip: 10.0.0.2}\n',
      ['peers[1].nodeName: duplicate of peers[0].nodeName "n1"'],
    ],
    [
      'duplicates of both name and nodeName',
      '- {name: a, nodeName: n1, ip: 10.0.0.1}\n- {name: a, nodeName: n1, ip: 10.0.0.2}\n',
      ['peers[1].name: duplicate of peers[0].name "a"', 'peers[1].nodeName: duplicate of peers[0].nodeName "n1"'],
    ],
    ['an empty name', '- {name: "", nodeName: n1, ip: 10.0.0.1}\n', ['peers[0].name: must not be empty']],
    ['an empty zone', '- {name: a, nodeName: n1, ip: 10.0.0.1, zone: ""}\n', ['peers[0].zone: must not be empty']],
    ['a missing nodeName', '- {name: a, ip: 10.0.0.1}\n', ['peers[0].nodeName: must be a string']],
    ['a mapping instead of a list', 'peers:\n  - {name: a, nodeName: n1, ip: 10.0.0.1}\n', ['peers: must be a list of peers {name, nodeName, ip, zone}']],
    ['a scalar instead of a list', 'node-a\n', ['peers: must be a list of peers {name, nodeName, ip, zone}']],
    // The entry's own message should read like every other one (src/discovery/peer.ts: peerSchema lacks an `error`).
    ['an entry that is not an object', '- {name: a, nodeName: n1, ip: 10.0.0.1}\n- 10.0.0.2\n', ['peers[1]: must be an object {name, nodeName, ip, zone}']],
    [
      'invalid YAML',
      '- {name: a, nodeName: n1\n',
      ['not valid YAML or JSON: Flow map in block collection must be sufficiently indented and end with a } at line 2, column 1:'],
    ],
    [
      'invalid JSON',
      '[{"name": "a", "nodeName": "n1", "ip": "10.0.0.1"},]x\n',
      ['not valid YAML or JSON: Unexpected scalar at node end at line 1, column 53:'],
    ],
    [
      'a duplicate YAML key',
      '- name: a\n  nodeName: n1\n  ip: 10.0.0.1\n  ip: 10.0.0.2\n',
      ['not valid YAML or JSON: Map keys must be unique at line 4, column 3:'],
    ],
  ];
  for (const [what, text, problems] of cases) {
    it(`rejects ${what}: ${problems.join(' | ')}`, async () => {
      assert.deepEqual([...(await problemsOf(file(text)))].sort(), [...problems].sort());
    });
  }

  it('reports every bad entry at once, each named by its index', async () => {
    const text = '- {name: a, nodeName: n1, ip: x}\n- {name: b, nodeName: n2, ip: 10.0.0.2, extra: 1}\n- {name: c, nodeName: n3, ip: y}\n';
    assert.deepEqual([...(await problemsOf(file(text)))].sort(), [
      'peers[0].ip: must be an IPv4 or IPv6 address',
      'peers[1].extra: unknown key',
      'peers[2].ip: must be an IPv4 or IPv6 address',
    ]);
  });

  it('a missing file is a PeersFileError naming the path and the errno code', async () => {
    const path = join(dir, 'no-such-peers.yaml');
    await assert.rejects(readPeersFile(path), (error: unknown) => {
      assert.ok(error instanceof PeersFileError);
      assert.deepEqual(error.problems, ['cannot read: ENOENT']);
      assert.equal(error.message, `${path}: invalid peers file\n  cannot read: ENOENT`);
      return true;
    });
  });
});

// ---- watchPeersFile ----

const POLL_MS = 50;
/** A change is delivered once the file has been left alone this long. */
const SETTLE_MS = 300;
const WATCH = { pollMs: POLL_MS, settleMs: SETTLE_MS };
/** Generous bound for "delivered within a couple of poll intervals", so a loaded CI machine does not flake. */
const DELIVERY_TIMEOUT_MS = 2000;

interface LogLine {
  level: number;
  msg: string;
  path?: string;
  peers?: number;
  problems?: string[];
}

/** A pino logger writing JSON lines into an array, as the agent's logger would to stdout. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const peerYaml = (...names: string[]) => names.map((name, i) => `- {name: ${name}, nodeName: node-${name}, ip: 10.0.0.${i + 1}}\n`).join('');
const namesOf = (peers: Peer[] | undefined) => peers?.map((peer) => peer.name);
/**
 * Lets a new watcher take its first stat before the scenario edits the file. An edit made *immediately* after
 * watchPeersFile resolves is a separate test below (it exposes a race in src, so it is kept out of these scenarios).
 */
const settle = () => sleep(POLL_MS * 3);

describe('watchPeersFile', () => {
  it('delivers the initial list, good edits, not a bad edit (logged instead), and stops after close()', async () => {
    const path = file(peerYaml('a'));
    const { log, lines } = capturingLogger();
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), log, WATCH);
    try {
      // Initial list: delivered before watchPeersFile resolves.
      assert.deepEqual(deliveries, [[{ name: 'a', nodeName: 'node-a', ip: '10.0.0.1', zone: 'unknown' }]]);
      await settle();

      // A good edit is delivered.
      writeFileSync(path, peerYaml('a', 'b'));
      await waitUntil('the first good edit', DELIVERY_TIMEOUT_MS, () => deliveries.length === 2);
      assert.deepEqual(namesOf(deliveries[1]), ['a', 'b']);
      assert.ok(lines.some((line) => line.msg === 'peers file reloaded' && line.peers === 2 && line.path === path));

      // A bad edit is logged with its problems and not delivered: the last good list stands.
      writeFileSync(path, `${peerYaml('a', 'b')}- {name: c, nodeName: node-c, ip: not-an-ip}\n`);
      await waitUntil('the rejection to be logged', DELIVERY_TIMEOUT_MS, () => lines.some((line) => line.level === 50));
      const rejected = lines.find((line) => line.level === 50);
      assert.equal(rejected?.msg, 'peers file change rejected; keeping the last good peer list');
      assert.equal(rejected?.path, path);
      assert.deepEqual(rejected?.problems, ['peers[2].ip: must be an IPv4 or IPv6 address']);
      await sleep(POLL_MS * 4);
      assert.equal(deliveries.length, 2, 'the bad edit must not be delivered');

      // A later good edit is delivered again.
      writeFileSync(path, peerYaml('a', 'b', 'c', 'd'));
      await waitUntil('the good edit after the bad one', DELIVERY_TIMEOUT_MS, () => deliveries.length === 3);
      assert.deepEqual(namesOf(deliveries[2]), ['a', 'b', 'c', 'd']);
    } finally {
      watcher.close();
    }

    // After close() nothing more is delivered or logged.
    const logged = lines.length;
    writeFileSync(path, peerYaml('z'));
    await sleep(SETTLE_MS + POLL_MS * 6);
    assert.equal(deliveries.length, 3, 'delivered after close()');
    assert.equal(lines.length, logged, 'logged after close()');
  });

  it('an edit to an empty file delivers an empty peer set', async () => {
    const path = file(peerYaml('a', 'b'));
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), capturingLogger().log, WATCH);
    try {
      await settle();
      writeFileSync(path, '');
      await waitUntil('the emptied list', DELIVERY_TIMEOUT_MS, () => deliveries.length >= 2);
      assert.deepEqual(deliveries.at(-1), []);
    } finally {
      watcher.close();
    }
  });

  it('follows an atomic replacement (rename over the path, as a ConfigMap update does)', async () => {
    const path = file(peerYaml('a'));
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), capturingLogger().log, WATCH);
    try {
      await settle();
      const staging = join(dir, `staging-${++counter}.yaml`);
      writeFileSync(staging, peerYaml('x', 'y'));
      renameSync(staging, path);
      await waitUntil('the replaced file', DELIVERY_TIMEOUT_MS, () => deliveries.length === 2);
      assert.deepEqual(namesOf(deliveries[1]), ['x', 'y']);
    } finally {
      watcher.close();
    }
  });

  it('a deleted file is logged and the last list kept; re-creating it delivers again', async () => {
    const path = file(peerYaml('a', 'b'));
    const { log, lines } = capturingLogger();
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), log, WATCH);
    try {
      await settle();
      unlinkSync(path);
      await waitUntil('the deletion to be logged', DELIVERY_TIMEOUT_MS, () => lines.some((line) => line.level === 50));
      assert.deepEqual(lines.find((line) => line.level === 50)?.problems, ['cannot read: ENOENT']);
      assert.equal(deliveries.length, 1);

      writeFileSync(path, peerYaml('c'));
      await waitUntil('the re-created file', DELIVERY_TIMEOUT_MS, () => deliveries.length === 2);
      assert.deepEqual(namesOf(deliveries[1]), ['c']);
    } finally {
      watcher.close();
    }
  });

  // Fails with src as it is: watchPeersFile reads the file, then calls fs.watchFile, whose baseline stat is taken
  // asynchronously; an edit landing before that stat becomes the baseline and is never delivered (until a later edit).
  // Run 20 watchers at once so the race is hit reliably (each loses its edit roughly 1 time in 3).
  it('an edit made immediately after watchPeersFile resolves is delivered (no start-up window where edits are lost)', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const path = file(peerYaml('a', 'b'));
        const deliveries: Peer[][] = [];
        const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), capturingLogger().log, WATCH);
        writeFileSync(path, '');
        try {
          const deadline = Date.now() + SETTLE_MS + POLL_MS * 20;
          while (deliveries.length < 2 && Date.now() < deadline) await sleep(10);
          return deliveries.at(-1)?.length === 0;
        } finally {
          watcher.close();
        }
      }),
    );
    assert.equal(results.filter((delivered) => !delivered).length, 0, 'edits made right after start were lost');
  });

  // Fails without the settle time: the poll after the first write reads the half-written file, which parses as the
  // shorter list [a, b], and peers c and d are removed and re-added.
  it('a file rewritten in place in two writes with a pause (an editor, `cat >`) is never read half-written', async () => {
    const path = file(peerYaml('a', 'b', 'c', 'd'));
    const { log, lines } = capturingLogger();
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), log, WATCH);
    try {
      await settle();
      const full = peerYaml('a', 'b', 'c', 'd', 'e');
      const cut = full.indexOf('- {name: c');
      writeFileSync(path, full.slice(0, cut)); // truncates, then writes the first two entries: a valid, shorter list
      await sleep(POLL_MS * 2); // several polls see the half-written file, but it has not been left alone long enough
      appendFileSync(path, full.slice(cut));
      await waitUntil('the complete file', DELIVERY_TIMEOUT_MS, () => deliveries.length === 2);
      await sleep(SETTLE_MS + POLL_MS * 4);
      assert.deepEqual(deliveries.map(namesOf), [
        ['a', 'b', 'c', 'd'],
        ['a', 'b', 'c', 'd', 'e'],
      ]);
      assert.deepEqual(
        lines.filter((line) => line.level >= 50),
        [],
        'nothing rejected either',
      );
    } finally {
      watcher.close();
    }
  });

  it("badStart 'wait': a bad file at start is logged and re-read on every change; the first good version is delivered", async () => {
    const path = file('- {name: a, nodeName: n1, ip: not-an-ip}\n');
    const { log, lines } = capturingLogger();
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), log, { ...WATCH, badStart: 'wait' });
    try {
      assert.deepEqual(deliveries, []);
      assert.deepEqual(
        lines.map((line) => [line.level, line.msg, line.problems]),
        [[50, 'peers file invalid; re-reading it on every change until it is good', ['peers[0].ip: must be an IPv4 or IPv6 address']]],
      );
      writeFileSync(path, '- {name: a, nodeName: n1, ip: 10.0.0.1, extra: 1}\n');
      await waitUntil('the second bad version to be logged', DELIVERY_TIMEOUT_MS, () => lines.length === 2);
      assert.deepEqual(lines[1]?.problems, ['peers[0].extra: unknown key']);
      assert.equal(lines[1]?.msg, 'peers file invalid; re-reading it on every change until it is good');
      writeFileSync(path, peerYaml('a', 'b'));
      await waitUntil('the good version', DELIVERY_TIMEOUT_MS, () => deliveries.length === 1);
      assert.deepEqual(namesOf(deliveries[0]), ['a', 'b']);
    } finally {
      watcher.close();
    }
  });

  it('a bad file at start rejects (the agent must not start on a broken list) and delivers nothing', async () => {
    const path = file('- {name: a, nodeName: n1, ip: 10.0.0.1}\n- {name: a, nodeName: n2, ip: 10.0.0.2}\n');
    const deliveries: Peer[][] = [];
    await assert.rejects(
      watchPeersFile(path, (peers) => deliveries.push(peers), capturingLogger().log, WATCH),
      (error: unknown) => {
        assert.ok(error instanceof PeersFileError);
        assert.deepEqual(error.problems, ['peers[1].name: duplicate of peers[0].name "a"']);
        return true;
      },
    );
    assert.deepEqual(deliveries, []);
  });

  // The idle cost: the path's stat used to be polled every 100 ms (10 wake-ups a second on every agent). Changes now
  // arrive as directory change events; the poll is only a slow fallback, set here far beyond the test's wait.
  it('with the fallback poll out of reach, an edit, a ConfigMap-style symlink swap and a rename still arrive (change events)', async () => {
    const CONFIGMAP = join(dir, `configmap-${++counter}`);
    const dataA = join(CONFIGMAP, '..data-a');
    const dataB = join(CONFIGMAP, '..data-b');
    mkdirSync(dataA, { recursive: true });
    mkdirSync(dataB);
    writeFileSync(join(dataA, 'peers.yaml'), peerYaml('a'));
    writeFileSync(join(dataB, 'peers.yaml'), peerYaml('b', 'c'));
    symlinkSync('..data-a', join(CONFIGMAP, '..data'));
    symlinkSync('..data/peers.yaml', join(CONFIGMAP, 'peers.yaml'));
    const path = join(CONFIGMAP, 'peers.yaml');
    const deliveries: Peer[][] = [];
    const watcher = await watchPeersFile(path, (peers) => deliveries.push(peers), capturingLogger().log, { pollMs: 600_000, settleMs: SETTLE_MS });
    try {
      assert.deepEqual(namesOf(deliveries[0]), ['a']);
      // The kubelet's update: a new ..data symlink renamed over the old one.
      symlinkSync('..data-b', join(CONFIGMAP, '..data-next'));
      renameSync(join(CONFIGMAP, '..data-next'), join(CONFIGMAP, '..data'));
      await waitUntil('the swapped ConfigMap data', DELIVERY_TIMEOUT_MS, () => deliveries.length === 2);
      assert.deepEqual(namesOf(deliveries[1]), ['b', 'c']);
    } finally {
      watcher.close();
    }

    const plain = file(peerYaml('a'));
    const plainDeliveries: Peer[][] = [];
    const plainWatcher = await watchPeersFile(plain, (peers) => plainDeliveries.push(peers), capturingLogger().log, { pollMs: 600_000, settleMs: SETTLE_MS });
    try {
      writeFileSync(plain, peerYaml('a', 'b'));
      await waitUntil('the edit in place', DELIVERY_TIMEOUT_MS, () => plainDeliveries.length === 2);
      const staging = join(dir, `staging-${++counter}.yaml`);
      writeFileSync(staging, peerYaml('x'));
      renameSync(staging, plain);
      await waitUntil('the replaced file', DELIVERY_TIMEOUT_MS, () => plainDeliveries.length === 3);
      assert.deepEqual(plainDeliveries.map(namesOf), [['a'], ['a', 'b'], ['x']]);
    } finally {
      plainWatcher.close();
    }
  });
});
