// Network namespaces for tests (root only): created with a unique name, loopback up, no default route, always deleted.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespace tests need root';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) return 'iproute2 (`ip`) is not installed';
  const probe = `kcprobe${process.pid}`;
  const created = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (created.status !== 0) return `cannot create a network namespace: ${created.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export interface Netns {
  readonly name: string;
  /** Runs a command inside the namespace; throws with its stderr on failure. */
  exec(command: string, args: readonly string[]): string;
  remove(): void;
}

export function createNetns(prefix: string): Netns {
  const name = `${prefix}${process.pid}${Math.floor(Math.random() * 1e6)}`.slice(0, 15);
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    exec: (command, args) => execFileSync('ip', ['netns', 'exec', name, command, ...args], { encoding: 'utf8' }),
    remove: () => {
      spawnSync('ip', ['netns', 'del', name]);
    },
  };
}
