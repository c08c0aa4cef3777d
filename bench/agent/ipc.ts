// The control protocol between the benchmark and its helper child processes (synthetic peers, minimal UDP client):
// the parent says start / reset / stats, the child answers ready and stats; each child exits when the channel closes.
import type { ChildProcess } from 'node:child_process';

export type ControlMessage = { readonly type: 'start' } | { readonly type: 'reset' } | { readonly type: 'stats'; readonly id: number };

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'stats'; readonly id: number; readonly stats: unknown }
  | { readonly type: 'failed'; readonly message: string };

export interface ControlChannel {
  /** Resolves on the child's `ready`; rejects on `failed`, exit or timeout. */
  ready(timeoutMs: number): Promise<void>;
  send(message: ControlMessage): void;
  stats<T>(timeoutMs: number): Promise<T>;
}

export function controlChannel(child: ChildProcess, name: string): ControlChannel {
  let nextId = 1;
  return {
    ready: (timeoutMs) => awaitMessage(child, name, (message) => message.type === 'ready', timeoutMs).then(() => undefined),
    send(message) {
      if (child.connected) child.send(message);
    },
    async stats<T>(timeoutMs: number) {
      const id = nextId++;
      const answer = awaitMessage(child, name, (message) => message.type === 'stats' && message.id === id, timeoutMs);
      child.send({ type: 'stats', id } satisfies ControlMessage);
      return ((await answer) as Extract<ChildMessage, { type: 'stats' }>).stats as T;
    },
  };
}

function awaitMessage(child: ChildProcess, name: string, wanted: (message: ChildMessage) => boolean, timeoutMs: number): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (raw: unknown) => {
      const message = raw as ChildMessage;
      if (message.type === 'failed') {
        cleanup();
        reject(new Error(`${name}: ${message.message}`));
      } else if (wanted(message)) {
        cleanup();
        resolve(message);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${name} exited (${signal ?? `status ${code}`})`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${name}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** In a child: exit when the parent goes away (channel closed) or after `deadlineMs`, whichever comes first. */
export function exitWithParent(deadlineMs: number): void {
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(3), deadlineMs).unref();
}

export function sendToParent(message: ChildMessage): void {
  process.send?.(message);
}

/** In a child: runs its main; a failure is reported to the parent (`failed`, its message) and ends the child with status 1. */
export function runChildMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    sendToParent({ type: 'failed', message: (error as Error).message });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
}
