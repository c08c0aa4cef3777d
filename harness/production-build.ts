// The production forms of kconmon, for the benchmarks, built into a private temporary directory (never the
// repository's dist/): the tsc build (what bin/kconmon.js runs) or the esbuild bundle (what the image runs).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));

export interface ProductionBuild {
  /** The compiled CLI entry (dist/cli.js). */
  readonly entry: string;
  /** tsc's complaints when it exited non-zero but still emitted (type errors elsewhere in src/ being edited). */
  readonly warnings: string;
  remove(): Promise<void>;
}

/**
 * `tsc`: src/ compiled with tsconfig.build.json (what `npm run build` and bin/kconmon.js run from an npm install), beside
 * links to package.json and node_modules. `bundle`: the esbuild bundle the container image runs (scripts/image/bundle.ts:
 * dist/cli.js plus lazy chunks, no node_modules).
 */
export async function buildProductionCli(kind: 'tsc' | 'bundle' = 'tsc'): Promise<ProductionBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-build-'));
  const entry = join(dir, 'dist', 'cli.js');
  const command =
    kind === 'tsc'
      ? [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')]
      : [join(REPO, 'scripts/image/bundle.ts'), join(dir, 'dist')];
  try {
    const warnings = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, command, { cwd: REPO, timeout: 180_000 }, (error, stdout, stderr) => {
        if (!error) resolve('');
        else if (kind === 'tsc' && existsSync(entry)) resolve(`${stdout}${stderr}`.trim());
        else reject(new Error(`${kind} build failed: ${stdout}${stderr}`));
      });
    });
    // version.ts reads ../package.json and web-files.ts ../web/; the tsc build's bare imports resolve through
    // node_modules next to dist/.
    await symlink(join(REPO, 'package.json'), join(dir, 'package.json'));
    await symlink(join(REPO, 'web'), join(dir, 'web'));
    if (kind === 'tsc') await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    return { entry, warnings, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
