// The kconmon container image for tests: built (or found up to date) by scripts/image/build.sh with buildah on local
// bases, and run under runc by scripts/image/run.sh. Root, buildah, runc and the project's Node binary are needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts/image/build.sh');
const RUN_SCRIPT = path.join(REPO_ROOT, 'scripts/image/run.sh');

/** Why the image cannot be built here, or undefined when it can. */
export function imageBuildUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'building the image needs root (buildah, runc)';
  for (const [binary, pkg] of [
    ['/usr/bin/buildah', 'buildah'],
    ['/usr/sbin/runc', 'runc'],
  ] as const) {
    if (!existsSync(binary)) return `${binary} not installed; install the Debian package ${pkg} (scripts/setup/system-packages.sh)`;
  }
  if (!existsSync(path.join(REPO_ROOT, 'node_modules/node/bin/node'))) return 'node_modules/node/bin/node missing (npm ci)';
  return undefined;
}

export interface BuiltImage {
  /** localhost/kconmon:<version> in buildah's (containers/storage) image store. */
  readonly image: string;
  /** OCI archive of the image, for `ctr images import`. */
  readonly archive: string;
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
  readonly baseBytes: number;
  readonly appBytes: number;
}

/** Runs scripts/image/build.sh (a no-op when the image is up to date) and returns what it printed. */
export function buildImage(): BuiltImage {
  const result = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`scripts/image/build.sh failed (status ${result.status}):\n${result.stderr.slice(-4000)}`);
  const values = new Map(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
  const get = (key: string): string => {
    const value = values.get(key);
    if (value === undefined) throw new Error(`scripts/image/build.sh printed no ${key}:\n${result.stdout}`);
    return value;
  };
  return {
    image: get('image'),
    archive: get('archive'),
    uncompressedBytes: Number(get('uncompressed_bytes')),
    compressedBytes: Number(get('compressed_bytes')),
    baseBytes: Number(get('base_bytes')),
    appBytes: Number(get('app_bytes')),
  };
}

export interface ImageRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the image under runc with a read-only root filesystem as its own user: the entrypoint with `args`, or, with
 * `entrypoint: false`, `args` as the whole command line.
 */
export function runImage(image: string, args: readonly string[], options: { entrypoint?: boolean } = {}): ImageRun {
  const result = spawnSync('bash', [RUN_SCRIPT, image, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KCONMON_RUN_ENTRYPOINT: options.entrypoint === false ? '0' : '1' },
    timeout: 120_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
