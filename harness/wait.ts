// Bounded polling for tests, e2e and benchmarks: one helper, one argument order (what, how long, the check).
import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown inside a waitUntil check: stop waiting at once and fail with this error. */
export class GiveUp extends Error {}

/** What the check returns: a value other than undefined/false ends the wait with that value. */
export type WaitCheck<T> = (note: (detail: string) => void) => Promise<T | undefined | false> | T | undefined | false;

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined/false, and resolves with it; throws
 * after `timeoutMs` with `what` and the last detail the check reported through `note` (or the last error it threw).
 * A thrown error is retried (a connection refused while a server starts), except GiveUp and failed assertions.
 */
export async function waitUntil<T>(what: string, timeoutMs: number, check: WaitCheck<T>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let detail = '';
  const note = (text: string) => {
    detail = text;
  };
  for (;;) {
    let result: T | undefined | false;
    try {
      result = await check(note);
    } catch (error) {
      if (error instanceof GiveUp || (error as Error).name === 'AssertionError') throw error;
      detail = (error as Error).message;
      result = undefined;
    }
    if (result !== undefined && result !== false) return result;
    if (Date.now() + intervalMs > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? ` (last: ${detail})` : ''}`);
    }
    await sleep(intervalMs);
  }
}
