// An informer's initial list, streamed: a watch with `sendInitialEvents` (Kubernetes ≥ 1.32, "WatchList") delivers
// the existing objects one event at a time up to a bookmark marking their end, so each is trimmed as it arrives and
// the whole list never sits in memory at once — one request whatever the cluster size. Where the apiserver does not
// support it (an error, or no end bookmark in time), the plain LIST is used instead.
import { Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';

export interface StreamedListOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  readonly path: string;
  readonly labelSelector?: string | undefined;
  /** Trims an object in place before it is kept. */
  readonly slim: (object: T) => void;
  /** The plain LIST, for apiservers without WatchList. */
  readonly fallback: () => Promise<KubernetesListObject<T>>;
  /** Longest wait for the end bookmark before falling back. */
  readonly timeoutMs?: number;
  readonly log: Logger;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export async function streamedList<T extends KubernetesObject>(options: StreamedListOptions<T>): Promise<KubernetesListObject<T>> {
  try {
    return await watchList(options);
  } catch (error) {
    options.log.info({ path: options.path, reason: (error as Error).message }, 'streamed list unavailable; using a plain LIST');
    const list = await options.fallback();
    for (const item of list.items) options.slim(item);
    return list;
  }
}

function watchList<T extends KubernetesObject>(options: StreamedListOptions<T>): Promise<KubernetesListObject<T>> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    let finished = false;
    let request: AbortController | undefined;
    const finish = (outcome: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      request?.abort();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no end-of-initial-events bookmark within ${options.timeoutMs ?? 30_000} ms`))),
      options.timeoutMs ?? 30_000,
    );
    const params: Record<string, string | boolean> = { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true };
    if (options.labelSelector !== undefined) params.labelSelector = options.labelSelector;
    new Watch(options.kubeConfig)
      .watch(
        options.path,
        params,
        (phase, object: T & { code?: number; message?: string }) => {
          if (finished) return;
          if (phase === 'ADDED') {
            options.slim(object);
            items.push(object);
          } else if (phase === 'BOOKMARK' && object.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true') {
            const resourceVersion = object.metadata?.resourceVersion ?? '';
            finish(() => resolve({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion }, items }));
          } else if (phase === 'ERROR') {
            finish(() => reject(new Error(`watch error ${object.code ?? ''}: ${object.message ?? 'unknown'}`)));
          } else if (phase !== 'BOOKMARK') {
            // MODIFIED/DELETED before the end bookmark: not the WatchList contract; let the plain LIST decide.
            finish(() => reject(new Error(`unexpected ${phase} event before the end of the initial events`)));
          }
        },
        (error: unknown) => finish(() => reject(error instanceof Error ? error : new Error('the stream ended before the end of the initial events'))),
      )
      .then(
        (controller) => {
          request = controller;
          if (finished) controller.abort();
        },
        (error: unknown) => finish(() => reject(error as Error)),
      );
  });
}
