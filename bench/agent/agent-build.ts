// The production form of the agent (what bin/kconmon.js runs): src/ compiled by tsc with tsconfig.build.json into a
// private temporary directory (never the repository's dist/), beside links to the repository's package.json and
// node_modules, so the benchmark can compare compiled JavaScript with running src/*.ts through type stripping.
import { execFile } from 'node:child_process';
import { mkdtemp, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface AgentBuild {
  /** The compiled CLI entry (dist/cli.js). */
  readonly entry: string;
  remove(): Promise<void>;
}

export async function buildAgent(): Promise<AgentBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-build-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')],
        { cwd: REPO, timeout: 180_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`tsc failed: ${stdout}${stderr}`)) : resolve()),
      );
    });
    // version.ts reads ../package.json; bare imports resolve through node_modules next to dist/.
    await symlink(join(REPO, 'package.json'), join(dir, 'package.json'));
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { entry: join(dir, 'dist', 'cli.js'), remove: () => rm(dir, { recursive: true, force: true }) };
}
