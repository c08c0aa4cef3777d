// A client-node Watch for long-lived informers: every object is trimmed (in place) before it reaches the cache, the
// apiserver is asked for bookmarks, and the inactivity timeout outlives the bookmark interval — so a quiet watch
// learns newer resource versions and resumes from them instead of re-listing everything when its version expires.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

/** Bookmarks arrive about once a minute; a healthy but quiet watch must outlive one. */
export const INACTIVITY_TIMEOUT_MS = 90_000;

export class SlimWatch<T> extends Watch {
  readonly #slim: (object: T) => void;

  constructor(config: KubeConfig, slim: (object: T) => void) {
    super(config);
    this.#slim = slim;
    // client-node keeps this private (default 30 s); it is the watch's inactivity timeout. Pinned by
    // test/controller/slim-watch.test.ts: an upgrade that renames or removes it fails there.
    (this as unknown as { requestTimeoutMs: number }).requestTimeoutMs = INACTIVITY_TIMEOUT_MS;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: Parameters<Watch['watch']>[2],
    done: Parameters<Watch['watch']>[3],
  ): Promise<AbortController> {
    return super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, object, event) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') this.#slim(object as T);
        callback(phase, object, event);
      },
      done,
    );
  }
}
