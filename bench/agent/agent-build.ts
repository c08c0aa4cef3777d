// The production forms of the agent, built into a private temporary directory (never the repository's dist/): the
// esbuild bundle the container image runs (scripts/image/bundle.ts: dist/cli.js plus lazy chunks, no node_modules), or
// src/ compiled by tsc with tsconfig.build.json (what `npm run build` and bin/kconmon.js run from an npm install) beside
// links to the repository's package.json and node_modules.
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

export async function buildAgent(kind: 'bundle' | 'tsc' = 'tsc'): Promise<AgentBuild> {
  const dir = await mkdtemp(join(tmpdir(), 'kconmon-bench-build-'));
  try {
    const command =
      kind === 'tsc'
        ? [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')]
        : [join(REPO, 'scripts/image/bundle.ts'), join(dir, 'dist')];
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, command, { cwd: REPO, timeout: 180_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${kind} build failed: ${stdout}${stderr}`)) : resolve(),
      );
    });
    // version.ts reads ../package.json; the tsc build's bare imports resolve through node_modules next to dist/.
    await symlink(join(REPO, 'package.json'), join(dir, 'package.json'));
    if (kind === 'tsc') await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { entry: join(dir, 'dist', 'cli.js'), remove: () => rm(dir, { recursive: true, force: true }) };
}
