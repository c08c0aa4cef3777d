// Static discovery: a YAML or JSON list of peers, re-read when the file changes (polling the path's stat, which also
// follows ConfigMap symlink swaps). A bad edit keeps the last good list and logs exactly what is wrong.
import { readFile } from 'node:fs/promises';
import { watchFile, unwatchFile, type Stats } from 'node:fs';
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
  onPeers(await readPeersFile(path));
  let generation = 0;
  const listener = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    const mine = ++generation;
    readPeersFile(path).then(
      (peers) => {
        if (mine !== generation) return; // a newer change is being read
        log.info({ path, peers: peers.length }, 'peers file reloaded');
        onPeers(peers);
      },
      (error: unknown) => {
        if (mine !== generation) return;
        log.error({ path, problems: (error as PeersFileError).problems ?? [(error as Error).message] }, 'peers file change rejected; keeping the last good peer list');
      },
    );
  };
  watchFile(path, { interval: pollMs, persistent: false }, listener);
  return { close: () => unwatchFile(path, listener) };
}
