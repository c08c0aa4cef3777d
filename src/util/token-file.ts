// A shared secret read from a file (a mounted Kubernetes Secret), re-read when it may have changed so a rotated token
// is picked up without a restart. A file that becomes unreadable or empty keeps the last good token, with one log line.
// Tokens are compared in constant time (over their SHA-256 digests, so lengths leak nothing either).
import { readFile } from 'node:fs/promises';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log.ts';

export interface TokenFile {
  readonly path: string;
  /** The current token (re-read at most every refreshMs). */
  current(): Promise<string>;
  /** True if `presented` equals the current token. */
  matches(presented: string): Promise<boolean>;
}

export interface TokenFileOptions {
  readonly log: Logger;
  /** Minimum time between re-reads of the file (default 5 s). */
  readonly refreshMs?: number;
}

/** The token a file holds, or why it holds none (one line naming the file). */
async function readToken(path: string): Promise<{ token: string } | { problem: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { problem: `token file ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  const token = text.trim();
  if (token === '') return { problem: `token file ${path}: is empty` };
  if (/\s/.test(token)) return { problem: `token file ${path}: must hold one token without spaces or line breaks` };
  if (token.length > 4096) return { problem: `token file ${path}: the token is longer than 4096 characters` };
  return { token };
}

/** Reads the token once (throwing an Error with one clear line if there is none), then serves and refreshes it. */
export async function openTokenFile(path: string, options: TokenFileOptions): Promise<TokenFile> {
  const refreshMs = options.refreshMs ?? 5000;
  const first = await readToken(path);
  if ('problem' in first) throw new Error(first.problem);
  let token = first.token;
  let readAt = performance.now();
  let refreshing: Promise<void> | undefined;
  let lastProblem: string | undefined;

  async function refresh(): Promise<void> {
    const result = await readToken(path);
    readAt = performance.now();
    if ('problem' in result) {
      if (result.problem !== lastProblem) options.log.warn({ file: path }, `${result.problem}; keeping the last good token`);
      lastProblem = result.problem;
      return;
    }
    if (result.token !== token) options.log.info({ file: path }, 'token file changed; using the new token');
    lastProblem = undefined;
    token = result.token;
  }

  async function current(): Promise<string> {
    if (performance.now() - readAt >= refreshMs) {
      refreshing ??= refresh().finally(() => (refreshing = undefined));
      await refreshing;
    }
    return token;
  }

  return {
    path,
    current,
    async matches(presented) {
      return tokensEqual(presented, await current());
    },
  };
}

function tokensEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
