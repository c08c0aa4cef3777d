// Static discovery: a YAML or JSON list of peers, re-read when the file changes and has then been left alone for a
// settle time, so a file rewritten in place is never read half-written. A change is noticed through fs.watch on the
// file's directory (which also sees ConfigMap symlink swaps) and, as a fallback, a slow poll of the path's stat (a
// file system without change events, a missed event); an idle agent wakes every few seconds, not 10 times a second.
// A bad edit keeps the last good list and logs exactly what is wrong.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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

export interface PeersFileWatchOptions {
  /** Fallback: how often the file's metadata is checked for a change without a change event (default 2000 ms). */
  readonly pollMs?: number;
  /** Watch the directory for change events (default true; false: polling alone, as on a file system without them). */
  readonly events?: boolean;
  /**
   * A change is read only once the file has been unchanged for this long (default 1000 ms): a file rewritten in place
   * in several writes (an editor, `cat >`) is never read half-written, when it may parse as a shorter list.
   */
  readonly settleMs?: number;
  /**
   * A bad file at start: `reject` (default; the agent must not start on a broken list) or `wait` (the controller: log
   * the problem and keep re-reading the file on every change until it is good; `onPeers` is first called then).
   */
  readonly badStart?: 'reject' | 'wait';
}

const DEFAULT_PEERS_FILE_POLL_MS = 2000;
const DEFAULT_PEERS_FILE_SETTLE_MS = 1000;
const INVALID_AT_START = 'peers file invalid; re-reading it on every change until it is good';

/**
 * Reads the file now and then calls `onPeers` after every change that parses and differs from the last list
 * delivered; a change that does not parse is logged and ignored (the last good list stands).
 */
export async function watchPeersFile(
  path: string,
  onPeers: (peers: Peer[]) => void,
  log: Logger,
  options: PeersFileWatchOptions = {},
): Promise<PeersFileWatcher> {
  const pollMs = options.pollMs ?? DEFAULT_PEERS_FILE_POLL_MS;
  const settleMs = options.settleMs ?? DEFAULT_PEERS_FILE_SETTLE_MS;
  // Baseline taken BEFORE the first read: any change after it is seen at a later poll (never lost).
  let seen = await signatureOf(path);
  /** When `seen` was first observed (monotonic): the file has been unchanged since then. */
  let seenSince = performance.now();
  /** Signature of the version last read (good or bad): it is not read again until it changes. */
  let read = seen;
  let delivered: string | undefined;
  let closed = false;

  const deliver = (peers: Peer[]): boolean => {
    const key = JSON.stringify(peers);
    if (key === delivered) return false;
    delivered = key;
    onPeers(peers);
    return true;
  };

  try {
    deliver(await readPeersFile(path));
  } catch (error) {
    if (options.badStart !== 'wait') throw error;
    log.error({ path, problems: problemsOf(error) }, INVALID_AT_START);
  }

  let polling = false;
  /** Another poll was asked for while one ran: run it right after. */
  let pollAgain = false;
  /** A one-shot poll at the end of a change's settle time (change events stop once the writer is done). */
  let settleTimer: NodeJS.Timeout | undefined;
  const poll = async () => {
    const current = await signatureOf(path);
    if (closed) return;
    if (current !== seen) {
      // Changed (or still changing): wait until it has been left alone for the settle time.
      seen = current;
      seenSince = performance.now();
      scheduleSettledPoll(settleMs);
      return;
    }
    if (current === read) return;
    const settlingFor = settleMs - (performance.now() - seenSince);
    if (settlingFor > 0) return scheduleSettledPoll(settlingFor);
    read = current;
    let peers: Peer[] | undefined;
    let failure: unknown;
    try {
      peers = await readPeersFile(path);
    } catch (error) {
      failure = error;
    }
    // Changed while being read: the next poll sees the change and reads it once it has settled.
    if (closed || (await signatureOf(path)) !== current) return;
    if (peers === undefined) {
      const message = delivered === undefined ? INVALID_AT_START : 'peers file change rejected; keeping the last good peer list';
      log.error({ path, problems: problemsOf(failure) }, message);
    } else if (deliver(peers)) {
      log.info({ path, peers: peers.length }, 'peers file reloaded');
    }
  };
  const requestPoll = () => {
    if (closed) return;
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    void poll().finally(() => {
      polling = false;
      if (pollAgain) {
        pollAgain = false;
        requestPoll();
      }
    });
  };
  function scheduleSettledPoll(delayMs: number): void {
    clearTimeout(settleTimer);
    settleTimer = setTimeout(requestPoll, Math.ceil(delayMs) + 1);
    settleTimer.unref();
  }
  const timer = setInterval(requestPoll, pollMs);
  timer.unref();
  let watcher: FSWatcher | undefined;
  if (options.events ?? true) {
    try {
      // The directory, not the file: a ConfigMap update or an editor replaces the file (a new inode) by a rename.
      // Only events that can concern the file: its own name, a ConfigMap's `..data` swap (names starting with ".."), or
      // an event without a name; other files in the directory (a log written next to it) do not cost a poll each.
      const name = basename(path);
      watcher = watch(dirname(path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name || changed.startsWith('..')) requestPoll();
      });
      watcher.on('error', (error) => {
        log.warn({ path, err: error }, `peers file change events stopped; polling every ${pollMs} ms`);
        watcher?.close();
      });
    } catch (error) {
      log.warn({ path, err: error }, `peers file change events unavailable; polling every ${pollMs} ms`);
    }
  }
  return {
    close: () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(settleTimer);
      watcher?.close();
    },
  };
}

/** Identity and version of the file at `path` (which inode, size, modification and change times); `missing` if none. */
async function signatureOf(path: string): Promise<string> {
  try {
    const stats = await stat(path, { bigint: true });
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

function problemsOf(error: unknown): readonly string[] {
  return error instanceof PeersFileError ? error.problems : [(error as Error).message];
}
