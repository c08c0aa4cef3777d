// Static discovery: a YAML or JSON list of peers, re-read when the file changes (polling the path's stat, which also
// follows ConfigMap symlink swaps). A bad edit keeps the last good list and logs exactly what is wrong.
import { readFile, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parsePeerList, type Peer } from './peer.ts';
import type { Logger } from '../log.ts';

export class PeersFileError extends Error {
  readonly problems: readonly string[];
  constructor(path: string, problems: readonly string[]) {
    super(`${path}: invalid peers file\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'PeersFileError';
    this.problems = problems;
  }
}

export async function readPeersFile(path: string): Promise<Peer[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PeersFileError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw new PeersFileError(path, [`not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  // An empty file is an empty peer set, not an error (a cluster of one).
  const parsed = parsePeerList(document ?? []);
  if ('problems' in parsed) throw new PeersFileError(path, parsed.problems);
  return parsed.peers;
}

export interface PeersFileWatcher {
  close(): void;
}

/**
 * Reads the file now (throwing if the first read is bad: the agent must not start on a broken list) and then calls
 * `onPeers` after every change that parses; a change that does not parse is logged and ignored.
 */
export async function watchPeersFile(path: string, onPeers: (peers: Peer[]) => void, log: Logger, pollMs = 500): Promise<PeersFileWatcher> {
  // Baseline taken BEFORE the first read: any change after it is seen at the next poll (never lost).
  let last: Stats | undefined = await stat(path).catch(() => undefined);
  onPeers(await readPeersFile(path));
  let generation = 0;
  let closed = false;
  const poll = async () => {
    const current = await stat(path).catch(() => undefined);
    if (closed || sameFile(current, last)) return;
    last = current;
    const mine = ++generation;
    readPeersFile(path).then(
      (peers) => {
        if (closed || mine !== generation) return;
        log.info({ path, peers: peers.length }, 'peers file reloaded');
        onPeers(peers);
      },
      (error: unknown) => {
        if (closed || mine !== generation) return;
        log.error({ path, problems: (error as PeersFileError).problems ?? [(error as Error).message] }, 'peers file change rejected; keeping the last good peer list');
      },
    );
  };
  const timer = setInterval(() => void poll(), pollMs);
  timer.unref();
  return {
    close: () => {
      closed = true;
      clearInterval(timer);
    },
  };
}

function sameFile(a: Stats | undefined, b: Stats | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}
