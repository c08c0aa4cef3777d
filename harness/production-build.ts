// The production form of kconmon (what bin/kconmon.js runs), for the benchmarks: src/ compiled by tsc with
// tsconfig.build.json into a private temporary directory (never the repository's dist/), beside links to the
// repository's package.json and node_modules, so bare imports and ../package.json resolve as they do from dist/.
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

export async function buildProductionCli(): Promise<ProductionBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-build-'));
  const entry = join(dir, 'dist', 'cli.js');
  try {
    const warnings = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
        { cwd: REPO, timeout: 180_000 },
        (error, stdout, stderr) => {
          if (!error) resolve('');
          else if (existsSync(entry)) resolve(`${stdout}${stderr}`.trim());
          else reject(new Error(`tsc failed: ${stdout}${stderr}`));
        },
      );
    });
    await symlink(join(REPO, 'package.json'), join(dir, 'package.json'));
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    return { entry, warnings, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
