// The web view in headless Chromium (playwright-core, Debian's chromium) against real processes on loopback: a
// controller and four agents in two zones reporting to it. Healthy, every cell is green and no verdict shows; an agent
// stopped with SIGSTOP turns its column red in the zone pair's node × node matrix and its verdict appears, and after
// SIGCONT both clear — all without a reload (a marker set in the page survives). The node search shows the node's
// probers. Screenshots go to the test's temp dir (printed), and to $KCONMON_WEB_VIEW_SCREENSHOT (the README's) if set.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitUntil } from '../../harness/wait.ts';
import type { Peer } from '../../src/discovery/peer.ts';
import type { AgentProcess } from '../helpers/agent-processes.ts';
import { startReportingCluster, type ReportingCluster } from '../helpers/reporting-cluster.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const CHROMIUM = '/usr/bin/chromium';
const chromiumMissing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (Debian package chromium; scripts/setup/system-packages.sh installs it)`;

const PEERS: Peer[] = [1, 2, 3, 4].map((i) => ({ name: `agent-${i}`, nodeName: `node-${i}`, ip: `127.0.11.${i}`, zone: i <= 2 ? 'zone-a' : 'zone-b' }));
const WINDOW_MS = 1000;

describe('the web view in headless Chromium', () => {
  let dir: string;
  let controllerUrl: string;
  let cluster: ReportingCluster | undefined;
  const agents: AgentProcess[] = [];
  let browser: Browser | undefined;

  const diagnostics = () => cluster?.diagnostics() ?? '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kconmon-web-view-'));
    if (chromiumMissing !== undefined) return;
    cluster = await startReportingCluster(dir, PEERS, WINDOW_MS, 'web-view-token-0123456789abcdef');
    ({ controllerUrl } = cluster);
    agents.push(...cluster.agents);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The level a matrix cell is drawn with (ok, degraded, down, none), or undefined while it is not drawn. */
  const level = (page: Page, source: string, destination: string) =>
    page
      .locator(`#matrix td.cell[data-source="${source}"][data-destination="${destination}"]`)
      .getAttribute('data-level', { timeout: 500 })
      .catch(() => undefined);
  const verdictIds = (page: Page) => page.locator('#verdicts li.verdict').evaluateAll((items) => items.map((item) => item.getAttribute('data-id')));

  async function screenshot(t: TestContext, page: Page, name: string, readme = false): Promise<void> {
    const file = join(tmpdir(), `kconmon-web-view-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
    const wanted = process.env.KCONMON_WEB_VIEW_SCREENSHOT;
    if (readme && wanted) {
      await page.screenshot({ path: resolve(wanted), fullPage: true });
      t.diagnostic(`screenshot for the README: ${resolve(wanted)}`);
    }
  }

  it('turns a stopped node red and shows its verdict without a reload, then clears both', async (t) => {
    if (!skipUnlessAvailable(t, chromiumMissing)) return;
    const page = await browser!.newPage({ viewport: { width: 1200, height: 480 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      // The browser logs the 404 the test asks for (an unknown node) as an error; nothing else may fail.
      if (message.type() === 'error' && !message.location().url.endsWith('?node=node-9')) errors.push(`${message.text()} (${message.location().url})`);
    });
    await page.goto(`${controllerUrl}/`);
    await waitUntil('the zone matrix to be healthy', 60_000, async (note) => {
      const levels = [await level(page, 'zone-a', 'zone-b'), await level(page, 'zone-b', 'zone-b'), await page.locator('#health').textContent()];
      note(`${JSON.stringify(levels)}\n${diagnostics()}`);
      return levels.join() === 'ok,ok,healthy';
    });
    assert.deepEqual(await verdictIds(page), []);
    await screenshot(t, page, 'healthy-zones');
    // Nothing below reloads the page: the marker would be gone.
    await page.evaluate(() => Object.assign(globalThis, { kconmonTestMarker: 'no reload' }));
    const marker = () => page.evaluate(() => (globalThis as { kconmonTestMarker?: string }).kconmonTestMarker);

    // Click through to zone-a → zone-b's node × node matrix.
    await page.locator('#matrix td.cell[data-source="zone-a"][data-destination="zone-b"] a').click();
    assert.match(page.url(), /#zones=zone-a,zone-b$/);
    await waitUntil('the node × node matrix of zone-a → zone-b, all green and nobody blamed', 30_000, async (note) => {
      const state = {
        cells: [await level(page, 'node-1', 'node-3'), await level(page, 'node-1', 'node-4'), await level(page, 'node-2', 'node-4')],
        blamed: await page.locator('#matrix th.blamed').count(),
      };
      note(JSON.stringify(state));
      return state.cells.join() === 'ok,ok,ok' && state.blamed === 0;
    });

    const stopped = agents[3]!;
    stopped.signal('SIGSTOP');
    try {
      await waitUntil('node-4 red with its verdict shown', 60_000, async (note) => {
        const state = {
          cells: [await level(page, 'node-1', 'node-4'), await level(page, 'node-2', 'node-4')],
          blamed: await page.locator('#matrix th.blamed').evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-name'))),
          verdicts: await verdictIds(page),
        };
        note(JSON.stringify(state));
        return state.cells.join() === 'down,down' && state.blamed.join() === 'node-4' && state.verdicts.join() === 'node:node-4';
      });
      const summary = (await page.locator('#verdicts li.verdict .summary').textContent()) ?? '';
      assert.match(summary, /^node-4 unreachable from 3 of 3 probers since .* \(destination problem\)$/);
      assert.deepEqual([await level(page, 'node-1', 'node-3'), await level(page, 'node-2', 'node-3')], ['ok', 'ok'], 'only node-4 is red');
      assert.equal(await page.locator('#health').getAttribute('data-health'), 'unhealthy');
      assert.equal(await marker(), 'no reload');
      await screenshot(t, page, 'node-4-stopped', true);

      // The node search: node-4's probers, all failing it.
      await page.locator('#node-search').fill('node-4');
      await page.locator('#search button').click();
      await waitUntil('node-4’s probers', 10_000, async () => {
        const incoming = await page
          .locator('#incoming td.cell[data-destination="node-4"]')
          .evaluateAll((cells) => cells.map((cell) => `${cell.getAttribute('data-source')}:${cell.getAttribute('data-level')}`));
        return incoming.join() === 'node-3:down,node-1:down,node-2:down';
      });
      assert.match(page.url(), /#node=node-4$/);
      await screenshot(t, page, 'node-4-search');
      // A node that does not exist: the controller's one line, and no matrix of another node under its name.
      await page.locator('#node-search').fill('node-9');
      await page.locator('#search button').click();
      await waitUntil('the unknown node said', 10_000, async () =>
        ((await page.locator('#problem').textContent()) ?? '').includes('404 no node named "node-9"'),
      );
      assert.equal(await page.locator('#matrix-title').textContent(), 'Nothing to show');
      assert.equal(await page.locator('#matrix td.cell').count(), 0);
      await page.goBack();
      await page.goBack();
      await waitUntil('back to zone-a → zone-b', 10_000, async () => (await level(page, 'node-1', 'node-4')) === 'down');
    } finally {
      stopped.signal('SIGCONT');
    }
    await waitUntil('node-4 green again and its verdict gone', 60_000, async (note) => {
      const state = { cells: [await level(page, 'node-1', 'node-4'), await level(page, 'node-2', 'node-4')], verdicts: await verdictIds(page) };
      note(JSON.stringify(state));
      return state.cells.join() === 'ok,ok' && state.verdicts.length === 0;
    });
    assert.equal(await page.locator('#no-verdicts').isVisible(), true);
    assert.equal(await marker(), 'no reload');
    assert.deepEqual(errors, []);
    await screenshot(t, page, 'healed');
  });
});
