// The web view's data, `GET /api/v1/matrix`: the query is validated (a bad one is a 400 with one line), and against a
// real controller process fed over real report streams (four nodes in two zones, every probe into node-4 failing,
// node-1 → node-3 losing one packet in five) the zone × zone matrix, a zone pair's node × node matrix and a node's
// pairs both ways say exactly that, with node-4's verdict; an unchanged version is a 304; like /api/v1/status, the
// matrix and the page need no token while the agent list does; the page and its files load nothing external.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../harness/ports.ts';
import { waitUntil } from '../../harness/wait.ts';
import { buildMatrix, parseMatrixQuery, type MatrixCell, type MatrixDocument } from '../../src/controller/verdict-matrix.ts';
import type { ClosedWindow } from '../../src/controller/verdict-windows.ts';
import { encodeReportBatch, REPORTS_PATH, type ReportedOutcome } from '../../src/protocol/report-stream.ts';
import type { PairView } from '../../src/verdicts/pair-state.ts';
import { spawnKconmon, type KconmonProcess } from '../helpers/kconmon-cli.ts';

describe('matrix query', () => {
  it('takes nothing, zones=A,B or node=N, and says in one line what is wrong with anything else', () => {
    const parse = (query: string) => parseMatrixQuery(new URLSearchParams(query));
    assert.deepEqual(parse(''), { view: 'zones' });
    assert.deepEqual(parse('zones=eu-1a,eu-1b'), { view: 'zone-pair', sourceZone: 'eu-1a', destinationZone: 'eu-1b' });
    assert.deepEqual(parse('node=node-4'), { view: 'node', node: 'node-4' });
    for (const bad of ['zones=a', 'zones=a,b,c', 'zones=,b', 'zones=a%0A,b', 'node=Node_4', 'node=', 'zones=a,b&node=n', 'node=a&node=b', 'x=1']) {
      const parsed = parse(bad);
      assert.ok('error' in parsed, `${bad} accepted`);
      assert.doesNotMatch(parsed.error, /\n/);
    }
  });
});

describe('matrix document', () => {
  const pair = (source: string, destination: string, fields: Partial<PairView>): PairView => ({
    source,
    destination,
    sourceZone: source <= 'n2' ? 'a' : 'b',
    destinationZone: destination <= 'n2' ? 'a' : 'b',
    status: 'up',
    lossSent: 10,
    lossLost: 0,
    rttMs: 1,
    baselineMs: undefined,
    elevated: false,
    ...fields,
  });
  const pairs = [
    pair('n1', 'n3', { lossLost: 2, rttMs: 3 }),
    pair('n2', 'n3', { rttMs: 1 }),
    pair('n1', 'n4', { status: 'down', lossSent: 0, rttMs: undefined }),
    pair('n2', 'n4', { status: undefined, lossSent: 0, rttMs: undefined }),
    pair('n3', 'n1', {}),
  ];
  const stats = { outcomes: 0, ignored: 0, pairsKnown: 4, pairsDown: 1, pairsDownUnexplained: 1, asymmetricPathsOmitted: 0, pairsTracked: 5 };
  const closed: ClosedWindow = {
    report: { windowStart: 1_700_000_000_000, windowEnd: 1_700_000_005_000, verdicts: [], findings: [], stats, pairs },
    agentsReporting: 4,
    cpuSeconds: 0,
  };
  const topology = { nodes: ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, zone: name <= 'n2' ? 'a' : 'b', terminating: false })) };
  const build = (query: Parameters<typeof buildMatrix>[1]) =>
    buildMatrix({ controller: 'r', windowMs: 5000, closed, topology, agentSetVersion: 7, now: 1_700_000_006_000 }, query) as MatrixDocument;

  it('sums node pairs into zone cells: known, down, fail share, loss over the packets, median RTT', () => {
    const document = build({ view: 'zones' });
    assert.equal(document.version, 'r-1700000005000-7');
    assert.deepEqual(document.zones, ['a', 'b']);
    assert.deepEqual(document.matrix.rows, ['a', 'b']);
    const ab = document.matrix.cells.find((cell) => cell.source === 'a' && cell.destination === 'b');
    assert.deepEqual(ab, { source: 'a', destination: 'b', known: 3, down: 1, failShare: 1 / 3, packetsSent: 20, packetsLost: 2, loss: 0.1, rttMs: 2 });
    assert.equal(document.matrix.cells.length, 2, 'only zone pairs with data have cells');
  });

  it('lists a zone pair’s nodes (with or without data) and one cell per node pair with data', () => {
    const document = build({ view: 'zone-pair', sourceZone: 'a', destinationZone: 'b' });
    assert.deepEqual(document.matrix.rows, ['n1', 'n2']);
    assert.deepEqual(document.matrix.columns, ['n3', 'n4', 'n5']);
    const n2n4 = document.matrix.cells.find((cell) => cell.source === 'n2' && cell.destination === 'n4');
    assert.deepEqual(n2n4, { source: 'n2', destination: 'n4', known: 0, down: 0, failShare: null, packetsSent: 0, packetsLost: 0, loss: null, rttMs: null });
    assert.deepEqual(build({ view: 'zone-pair', sourceZone: 'a', destinationZone: 'c' }), { notFound: 'no zone named "c"' });
  });

  it('shows a node’s probes and its probers, peers of its own zone first', () => {
    const document = build({ view: 'node', node: 'n3' });
    assert.deepEqual(document.matrix.rows, ['n3']);
    assert.deepEqual(document.matrix.columns, ['n1', 'n2']);
    assert.deepEqual(
      document.matrix.cells.map((cell) => `${cell.source}>${cell.destination}`),
      ['n3>n1'],
    );
    assert.deepEqual(
      document.incoming?.cells.map((cell) => `${cell.source}>${cell.destination}:${cell.down}/${cell.known}`),
      ['n1>n3:0/1', 'n2>n3:0/1'],
    );
    assert.deepEqual(build({ view: 'node', node: 'n9' }), { notFound: 'no node named "n9"' });
  });
});

const TOKEN = 'verdict-matrix-token-0123456789abcdef';
const PEERS = [1, 2, 3, 4].map((i) => ({ name: `agent-${i}`, nodeName: `node-${i}`, ip: `127.0.9.${i}`, zone: i <= 2 ? 'zone-a' : 'zone-b' }));
const WINDOW_MS = 1000;

/** What each node reports about each peer: node-4 never answers, node-1 → node-3 loses one packet in five. */
function outcomesOf(source: string): ReportedOutcome[] {
  return PEERS.filter((peer) => peer.nodeName !== source).map(({ nodeName: destination }) => {
    if (destination === 'node-4') return { kind: 'udp', destination, packetsSent: 5, packetsLost: 5, rttMs: undefined, ageMs: 0 };
    if (source === 'node-1' && destination === 'node-3') return { kind: 'udp', destination, packetsSent: 5, packetsLost: 1, rttMs: 2, ageMs: 0 };
    return { kind: 'udp', destination, packetsSent: 5, packetsLost: 0, rttMs: 1, ageMs: 0 };
  });
}

describe('GET /api/v1/matrix from a real controller fed over real report streams', () => {
  let dir: string;
  let controller: KconmonProcess;
  let base: string;
  const streams: http.ClientRequest[] = [];
  let feeder: NodeJS.Timeout | undefined;

  async function matrix(query = ''): Promise<MatrixDocument> {
    const response = await fetch(`${base}/api/v1/matrix${query}`, { signal: AbortSignal.timeout(2000) });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as MatrixDocument;
  }

  const cell = (cells: readonly MatrixCell[], source: string, destination: string) => {
    const found = cells.find((candidate) => candidate.source === source && candidate.destination === destination);
    assert.ok(found, `no cell ${source} → ${destination} in ${JSON.stringify(cells)}`);
    return found;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kconmon-matrix-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    await writeFile(join(dir, 'peers.json'), JSON.stringify(PEERS));
    const config = {
      port,
      listenAddress: '127.0.0.1',
      heartbeatInterval: 200,
      logLevel: 'info',
      auth: { tokenFile: 'token' },
      source: { peersFile: 'peers.json' },
      verdicts: { window: WINDOW_MS, grace: 200 },
    };
    await writeFile(join(dir, 'controller.json'), JSON.stringify(config));
    controller = spawnKconmon('controller', join(dir, 'controller.json'));
    await waitUntil('the controller to be ready', 20_000, async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok === true);
    for (const { nodeName, name } of PEERS) {
      const request = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `${REPORTS_PATH}?node=${nodeName}&pod=${name}`,
        agent: false,
        headers: { 'transfer-encoding': 'chunked', authorization: `Bearer ${TOKEN}` },
      });
      request.on('response', (response) => response.resume());
      request.on('error', () => {});
      request.flushHeaders();
      streams.push(request);
    }
    // One UDP test per pair every 250 ms, as agents would report them (age 0: just ended).
    const feed = () => {
      for (const [i, { nodeName }] of PEERS.entries()) streams[i]!.write(encodeReportBatch({ sent: performance.now(), outcomes: outcomesOf(nodeName) }));
    };
    feed();
    feeder = setInterval(feed, 250);
  });

  after(async () => {
    clearInterval(feeder);
    for (const stream of streams) stream.destroy();
    await controller?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('draws the zones, a zone pair and a node as reported, with node-4’s verdict', async () => {
    const zones = await waitUntil('every pair known and node-4 judged', 30_000, async (note) => {
      const document = await matrix();
      note(`${JSON.stringify(document)}\n${controller.output().slice(-2000)}`);
      return document.coverage.pairsKnown === 12 && document.verdicts.some((verdict) => verdict.id === 'node:node-4') ? document : undefined;
    });
    assert.equal(zones.apiVersion, 'kconmon.io/v1');
    assert.deepEqual(zones.query, { view: 'zones' });
    assert.deepEqual(zones.matrix.rows, ['zone-a', 'zone-b']);
    assert.deepEqual(
      zones.verdicts.map((verdict) => [verdict.id, verdict.kind]),
      [['node:node-4', 'node-destination']],
    );
    const aa = cell(zones.matrix.cells, 'zone-a', 'zone-a');
    assert.deepEqual([aa.known, aa.down, aa.failShare, aa.loss, aa.rttMs], [2, 0, 0, 0, 1]);
    const ab = cell(zones.matrix.cells, 'zone-a', 'zone-b');
    assert.deepEqual([ab.known, ab.down, ab.failShare, ab.rttMs], [4, 2, 0.5, 1.5]);
    assert.ok(ab.packetsLost > 0 && ab.loss !== null && ab.loss > 0 && ab.loss < 0.2, JSON.stringify(ab));
    const bb = cell(zones.matrix.cells, 'zone-b', 'zone-b');
    assert.deepEqual([bb.known, bb.down, bb.failShare], [2, 1, 0.5]);
    const ba = cell(zones.matrix.cells, 'zone-b', 'zone-a');
    assert.deepEqual([ba.known, ba.down, ba.loss], [4, 0, 0]);

    const pairView = await matrix('?zones=zone-a,zone-b');
    assert.deepEqual(
      [pairView.matrix.rows, pairView.matrix.columns],
      [
        ['node-1', 'node-2'],
        ['node-3', 'node-4'],
      ],
    );
    assert.deepEqual(pairView.matrix.cells.map((c) => `${c.source}>${c.destination} down ${c.down}/${c.known} loss ${c.loss} rtt ${c.rttMs}`).sort(), [
      'node-1>node-3 down 0/1 loss 0.2 rtt 2',
      'node-1>node-4 down 1/1 loss null rtt null',
      'node-2>node-3 down 0/1 loss 0 rtt 1',
      'node-2>node-4 down 1/1 loss null rtt null',
    ]);

    const nodeView = await matrix('?node=node-4');
    assert.deepEqual(nodeView.matrix.columns, ['node-3', 'node-1', 'node-2']);
    assert.deepEqual(nodeView.incoming?.cells.map((c) => `${c.source} ${c.down}/${c.known}`).sort(), ['node-1 1/1', 'node-2 1/1', 'node-3 1/1']);
    assert.deepEqual(nodeView.matrix.cells.map((c) => `${c.destination} ${c.down}/${c.known}`).sort(), ['node-1 0/1', 'node-2 0/1', 'node-3 0/1']);
  });

  it('answers an unchanged version with 304 and a new window with a new version', async () => {
    let version = (await matrix()).version;
    const notModified = await waitUntil('a 304 for the current version', 10_000, async () => {
      const response = await fetch(`${base}/api/v1/matrix`, { headers: { 'if-none-match': `"${version}"` } });
      if (response.status === 304) return response;
      // A window closed between the two requests: the new document has a new version.
      assert.equal(response.status, 200);
      const document = (await response.json()) as MatrixDocument;
      assert.notEqual(document.version, version);
      version = document.version;
      return undefined;
    });
    assert.equal(notModified.headers.get('etag'), `"${version}"`);
    assert.equal(await notModified.text(), '');
    const next = await waitUntil('the next window', 10_000, async () => {
      const response = await fetch(`${base}/api/v1/matrix`, { headers: { 'if-none-match': `"${version}"` } });
      return response.status === 200 ? ((await response.json()) as MatrixDocument) : undefined;
    });
    assert.notEqual(next.version, version);
  });

  it('answers a bad query with 400 and one line, an unknown zone or node with 404', async () => {
    for (const query of ['?zones=zone-a', '?node=NODE', '?limit=5', '?zones=zone-a,zone-b&node=node-1']) {
      const response = await fetch(`${base}/api/v1/matrix${query}`);
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), /^[^\n]+\n$/, query);
    }
    for (const [query, line] of [
      ['?zones=zone-a,zone-x', 'no zone named "zone-x"\n'],
      ['?node=node-9', 'no node named "node-9"\n'],
    ] as const) {
      const response = await fetch(`${base}/api/v1/matrix${query}`);
      assert.equal(response.status, 404, query);
      assert.equal(await response.text(), line);
    }
  });

  it('needs no token for the matrix and the page, like /api/v1/status, while the agent list does', async () => {
    assert.equal((await fetch(`${base}/agents`)).status, 401);
    assert.equal((await fetch(`${base}/api/v1/status`)).status, 200);
    assert.equal((await fetch(`${base}/api/v1/matrix`)).status, 200);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });

  it('serves the page and its files with a strict policy, and they load nothing from elsewhere', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((match) => match[1]!);
    // data:, as the icon: no request for /favicon.ico.
    assert.deepEqual(assets.sort(), ['data:,', 'web/app.js', 'web/style.css']);
    for (const [asset, type] of [
      ['web/app.js', 'text/javascript; charset=utf-8'],
      ['web/style.css', 'text/css; charset=utf-8'],
    ] as const) {
      const response = await fetch(`${base}/${asset}`);
      assert.equal(response.status, 200, asset);
      assert.equal(response.headers.get('content-type'), type);
      const body = await response.text();
      assert.doesNotMatch(body, /(?:https?:)?\/\/[a-z0-9-]+\.[a-z]/i, `${asset} names another origin`);
      const etag = response.headers.get('etag')!;
      assert.equal((await fetch(`${base}/${asset}`, { headers: { 'if-none-match': etag } })).status, 304);
    }
    assert.doesNotMatch(html, /(?:https?:)?\/\/[a-z0-9-]+\.[a-z]/i);
  });
});
