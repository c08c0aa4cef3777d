// The container image built for real from the Dockerfile users build: `buildah bud` on bases made locally (no registry
// pull), then run under runc as a kubelet would with readOnlyRootFilesystem. Checks the size targets (≤ 130 MB
// unpacked, ≤ 50 MB compressed), the numeric non-root user, `kconmon --version`, and that the root filesystem is
// read-only and the application needs nothing writable. Also checks `kconmon --version` from the sources.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildImage, imageBuildUnavailable, runImage, type BuiltImage } from '../helpers/image.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('kconmon --version', () => {
  it('prints the package version and exits 0 (`version` too)', () => {
    for (const argument of ['--version', 'version']) {
      const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'src/cli.ts'), argument], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${VERSION}\n`);
    }
  });
});

describe('container image (buildah + runc)', () => {
  let built: BuiltImage | undefined;
  const image = (t: TestContext): BuiltImage | undefined => {
    if (!skipUnlessAvailable(t, imageBuildUnavailable())) return undefined;
    built ??= buildImage();
    return built;
  };

  it('builds from the Dockerfile within the size targets', (t) => {
    const result = image(t);
    if (!result) return;
    t.diagnostic(
      `${result.image}: ${(result.uncompressedBytes / 1e6).toFixed(1)} MB uncompressed (base ${(result.baseBytes / 1e6).toFixed(1)} MB, ` +
        `kconmon ${(result.appBytes / 1e6).toFixed(1)} MB), ${(result.compressedBytes / 1e6).toFixed(1)} MB compressed`,
    );
    assert.equal(result.image, `localhost/kconmon:${VERSION}`);
    assert.ok(result.uncompressedBytes <= 130e6, `uncompressed ${result.uncompressedBytes} bytes > 130 MB`);
    assert.ok(result.compressedBytes <= 50e6, `compressed ${result.compressedBytes} bytes > 50 MB`);
    assert.ok(result.appBytes > 0 && result.appBytes < result.baseBytes, 'the application layers are on top of the base');
  });

  it('`kconmon --version` runs from the entrypoint', (t) => {
    const result = image(t);
    if (!result) return;
    const run = runImage(result.image, ['--version']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${VERSION}\n`);
  });

  it('runs as uid/gid 1000 in /app with a read-only root filesystem, ships the web view files and no node_modules or npm', (t) => {
    const result = image(t);
    if (!result) return;
    const script = `
      const fs = require('node:fs');
      const attempt = (file) => { try { fs.writeFileSync(file, 'x'); return 'written'; } catch (error) { return error.code; } };
      console.log(JSON.stringify({
        uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(),
        writeApp: attempt('/app/probe'), writeTmp: attempt('/tmp/probe'),
        nodeModules: fs.existsSync('/app/node_modules'), npm: fs.existsSync('/usr/local/bin/npm'), shell: fs.existsSync('/bin/sh'),
        dist: fs.readdirSync('/app/dist').some((name) => name === 'cli.js'),
        web: fs.readdirSync('/app/web').sort(),
      }));`;
    const run = runImage(result.image, ['node', '-e', script], { entrypoint: false });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      uid: 1000,
      gid: 1000,
      cwd: '/app',
      writeApp: 'EROFS',
      writeTmp: 'EROFS',
      nodeModules: false,
      npm: false,
      shell: false,
      dist: true,
      web: ['app.js', 'index.html', 'style.css'],
    });
  });

  it('the agent rejects a missing configuration file by name with status 2 inside the image', (t) => {
    const result = image(t);
    if (!result) return;
    const run = runImage(result.image, ['agent', '--config', '/nonexistent.yaml']);
    assert.equal(run.status, 2, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /\/nonexistent\.yaml/);
  });
});
