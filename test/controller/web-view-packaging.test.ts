// The web view in the production form the image runs: the esbuild bundle's controller finds web/ beside its dist/
// (src/web-files.ts resolves `../web/` from the chunk its code landed in) and serves the page and its files. The tsc
// build (an npm install) resolves it the same way as the sources, from a module directly in dist/; not built here, it
// takes half a minute. The image test checks that the image has /app/web beside /app/dist.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startLoggedProcess } from '../../harness/logged-process.ts';
import { freePort } from '../../harness/ports.ts';
import { buildProductionCli } from '../../harness/production-build.ts';
import { waitUntil } from '../../harness/wait.ts';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

describe('the web view from the production builds', () => {
  for (const kind of ['bundle'] as const) {
    it(`is served by the ${kind} build's controller`, async () => {
      const build = await buildProductionCli(kind);
      const dir = await mkdtemp(join(tmpdir(), 'kconmon-web-packaging-'));
      const port = await freePort();
      await writeFile(join(dir, 'peers.json'), JSON.stringify([{ name: 'agent-1', nodeName: 'node-1', ip: '127.0.0.1', zone: 'zone-a' }]));
      await writeFile(join(dir, 'controller.json'), JSON.stringify({ port, listenAddress: '127.0.0.1', source: { peersFile: join(dir, 'peers.json') } }));
      const args = [build.entry, 'controller', '--config', join(dir, 'controller.json')];
      const controller = startLoggedProcess(`controller-${kind}`, process.execPath, args, join(dir, 'log'));
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitUntil(`the ${kind} controller to be ready`, 30_000, async (note) => {
          note(controller.logTail());
          return (await fetch(`${base}/readyz`).catch(() => undefined))?.ok === true;
        });
        for (const [path, file] of [
          ['/', 'index.html'],
          ['/web/app.js', 'app.js'],
          ['/web/style.css', 'style.css'],
        ] as const) {
          const response = await fetch(`${base}${path}`);
          assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
          assert.equal(await response.text(), await readFile(join(WEB, file), 'utf8'), path);
        }
        assert.equal((await fetch(`${base}/api/v1/matrix`)).status, 200);
        assert.doesNotMatch(controller.logTail(), /web view is not available/);
      } finally {
        await controller.stop();
        await rm(dir, { recursive: true, force: true });
        await build.remove();
      }
    });
  }
});
