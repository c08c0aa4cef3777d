// The web view's check in the e2e black-hole scenario: while the fault holds, headless Chromium (playwright-core,
// Debian's chromium) opens the controller's page, finds the node with the search — every probe into it red, the node
// marked, its verdict listed — then opens a zone pair into the node's zone, where its column is red and no other is.
// Saves a screenshot in the cluster's run directory. Without chromium: one line and no check (a failure under
// KCONMON_REQUIRE_ALL=1, as CI runs).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { Cluster } from '../../e2e/cluster.ts';
import { waitUntil } from '../../harness/wait.ts';
import { RequiredCapabilityMissing, requireAll } from '../harness/require.ts';

const CHROMIUM = '/usr/bin/chromium';

/** The level of each drawn cell of a matrix (`#matrix` or `#incoming`) as `source>destination:level`. */
const cellLevels = (page: Page, table: string) =>
  page
    .locator(`${table} td.cell`)
    .evaluateAll((cells) =>
      cells.map((cell) => `${cell.getAttribute('data-source')}>${cell.getAttribute('data-destination')}:${cell.getAttribute('data-level')}`),
    );

export async function checkWebViewNamesNode(cluster: Cluster, nodeName: string, say: (line: string) => void): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    const reason = `${CHROMIUM} is missing (Debian package chromium): the web view was not checked`;
    if (requireAll()) throw new RequiredCapabilityMissing(reason);
    say(reason);
    return;
  }
  const node = cluster.node(nodeName);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
    await page.goto(`${cluster.controllerUrl}/`);
    await page.locator('#node-search').fill(nodeName);
    await page.locator('#search button').click();
    const found = await waitUntil(`the web view to show ${nodeName} red with its verdict`, 30_000, async (note) => {
      const state = {
        incoming: await cellLevels(page, '#incoming'),
        blamed: await page.locator('#incoming th.blamed').evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-name'))),
        verdicts: await page.locator('#verdicts li.verdict').evaluateAll((items) => items.map((item) => item.getAttribute('data-id'))),
      };
      note(JSON.stringify(state));
      const intoNode = state.incoming.filter((cell) => cell.includes(`>${nodeName}:`));
      const ok = intoNode.length >= 2 && intoNode.every((cell) => cell.endsWith(':down')) && state.blamed.includes(nodeName);
      return ok && state.verdicts.includes(`node:${nodeName}`) ? state : undefined;
    });
    const otherZone = cluster.zones.find((zone) => zone !== node.zone)!;
    // Same document, a new hash: the view follows it without a reload.
    await page.goto(`${cluster.controllerUrl}/#zones=${encodeURIComponent(otherZone)},${encodeURIComponent(node.zone)}`);
    const zonePair = await waitUntil(`${otherZone} → ${node.zone}: ${nodeName}'s column red, no other`, 30_000, async (note) => {
      const levels = await cellLevels(page, '#matrix');
      note(JSON.stringify(levels));
      const intoNode = levels.filter((cell) => cell.includes(`>${nodeName}:`));
      const others = levels.filter((cell) => !cell.includes(`>${nodeName}:`));
      return intoNode.length > 0 && intoNode.every((cell) => cell.endsWith(':down')) && others.length > 0 && others.every((cell) => !cell.endsWith(':down'))
        ? levels
        : undefined;
    });
    assert.ok(zonePair.length > 0);
    const screenshot = join(cluster.dir, 'web-view-black-hole.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    say(`black hole: web view shows ${found.incoming.length} probes into ${nodeName} red and its verdict; screenshot ${screenshot}`);
  } finally {
    await browser.close();
  }
}
