// Kubernetes discovery: informers on Nodes (for zones) and on the agent Pods (namespace + label selector), holding
// trimmed objects and listing by stream (initial-list.ts). A failed
// informer is restarted with jittered backoff and resumes from its cache, so an API outage never empties or flaps
// the agent set; the set is recomputed from both caches after every burst of events, with one probed agent per node.
import {
  CoreV1Api,
  ListWatch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { SlimWatch } from './slim-watch.ts';
import { streamedList } from './initial-list.ts';
import type { AgentEntry } from '../protocol/agent-stream.ts';
import type { Logger } from '../log.ts';
import { backoffDelay } from '../util/backoff.ts';
import { nodeZone, onePerNode, podCreatedAt, podToEntry, slimNode, slimPod, type AgentCandidate } from './kube-agents.ts';

export interface AgentSource {
  /** Starts discovery; resolves once the first complete view is known (or rejects if it can never be had). */
  start(): Promise<void>;
  entries(): AgentEntry[];
  zoneOfNode(nodeName: string): string | undefined;
  /** The Node's uid, when the source reads Nodes. */
  uidOfNode?(nodeName: string): string | undefined;
  stop(): Promise<void>;
}

export interface KubeSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly zoneLabels: readonly string[];
  readonly backoff: { readonly min: number; readonly max: number };
  readonly log: Logger;
  /** Called (coalesced) whenever the computed agent set may have changed. */
  readonly onChange: () => void;
  readonly onInformerRestart?: (resource: 'nodes' | 'pods', error: string) => void;
}

interface Watched<T extends KubernetesObject> {
  readonly resource: 'nodes' | 'pods';
  readonly informer: Informer<T> & ObjectCache<T>;
  /** Consecutive failures, for the backoff. */
  failures: number;
  synced: boolean;
  timer: NodeJS.Timeout | undefined;
}

export function createKubeSource(options: KubeSourceOptions): AgentSource {
  const log = options.log.child({ component: 'kube-source' });
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  // Caches hold trimmed objects only (the informers keep every object for the controller's lifetime).
  const slimNodeHere = (node: V1Node) => slimNode(node, options.zoneLabels);
  const podsPath = `/api/v1/namespaces/${encodeURIComponent(options.namespace)}/pods`;
  const nodes: Watched<V1Node> = {
    resource: 'nodes',
    informer: new ListWatch<V1Node>(
      '/api/v1/nodes',
      new SlimWatch<V1Node>(options.kubeConfig, slimNodeHere),
      () => streamedList({ kubeConfig: options.kubeConfig, path: '/api/v1/nodes', slim: slimNodeHere, fallback: () => core.listNode(), log }),
      false,
    ),
    failures: 0,
    synced: false,
    timer: undefined,
  };
  const pods: Watched<V1Pod> = {
    resource: 'pods',
    informer: new ListWatch<V1Pod>(
      podsPath,
      new SlimWatch<V1Pod>(options.kubeConfig, slimPod),
      () =>
        streamedList({
          kubeConfig: options.kubeConfig,
          path: podsPath,
          labelSelector: options.labelSelector,
          slim: slimPod,
          fallback: () => core.listNamespacedPod({ namespace: options.namespace, labelSelector: options.labelSelector }),
          log,
        }),
      false,
      options.labelSelector,
    ),
    failures: 0,
    synced: false,
    timer: undefined,
  };
  let stopped = false;
  let scheduled = false;
  let firstSync: { resolve: () => void } | undefined;
  /** Why each pod was last left out, so each reason is logged once. */
  let reported = new Map<string, string>();

  function scheduleChange(): void {
    if (scheduled || !nodes.synced || !pods.synced) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (!stopped) options.onChange();
    });
  }

  function checkFirstSync(): void {
    if (nodes.synced && pods.synced && firstSync) {
      firstSync.resolve();
      firstSync = undefined;
    }
  }

  async function run<T extends KubernetesObject>(watched: Watched<T>): Promise<void> {
    let failed = false;
    const onError = (error: unknown) => {
      failed = true;
      if (stopped) return;
      watched.failures++;
      const message = describeError(error);
      const delay = backoffDelay(options.backoff, watched.failures - 1);
      log.warn(
        { resource: watched.resource, error: message, retryInMs: Math.round(delay), cached: watched.informer.list().length },
        'informer failed; keeping its cache and restarting',
      );
      options.onInformerRestart?.(watched.resource, message);
      watched.informer.off('error', onError);
      watched.timer = setTimeout(() => void run(watched), delay);
    };
    watched.informer.on('error', onError);
    try {
      await watched.informer.start();
    } catch (error) {
      if (!failed) onError(error);
      return;
    }
    if (failed || stopped) return;
    // start() resolves once the list (if one was needed) is in the cache and the watch is open.
    watched.failures = 0;
    if (!watched.synced) log.info({ resource: watched.resource, objects: watched.informer.list().length }, 'informer synced');
    watched.synced = true;
    checkFirstSync();
    scheduleChange();
  }

  for (const watched of [nodes, pods] as const) {
    for (const verb of ['add', 'update', 'delete'] as const) (watched.informer as Informer<KubernetesObject>).on(verb, scheduleChange);
  }

  function zoneOfNode(nodeName: string): string | undefined {
    const node = nodes.informer.get(nodeName);
    return node ? nodeZone(node, options.zoneLabels) : undefined;
  }

  return {
    start() {
      const synced = new Promise<void>((resolve) => (firstSync = { resolve }));
      void run(nodes);
      void run(pods);
      return synced;
    },
    entries() {
      const candidates: AgentCandidate[] = [];
      const skipped = new Map<string, string>();
      for (const pod of pods.informer.list()) {
        const nodeName = pod.spec?.nodeName;
        // A pod whose node is gone is no peer, whatever its last status says.
        const verdict =
          nodeName && !nodes.informer.get(nodeName) ? { skip: `node ${nodeName} does not exist` } : podToEntry(pod, (name) => zoneOfNode(name) ?? 'unknown');
        if ('entry' in verdict) {
          candidates.push({ entry: verdict.entry, createdAt: podCreatedAt(pod) });
          continue;
        }
        const name = pod.metadata?.name ?? '(unnamed)';
        skipped.set(name, verdict.skip);
        if (reported.get(name) !== verdict.skip) log.debug({ pod: name, reason: verdict.skip }, 'pod is not listed as an agent');
      }
      reported = skipped;
      // Several agent pods on one node (a surge during a rolling update): only the newest Ready one is probed.
      return onePerNode(candidates);
    },
    zoneOfNode,
    uidOfNode: (nodeName) => nodes.informer.get(nodeName)?.metadata?.uid,
    async stop() {
      stopped = true;
      for (const watched of [nodes, pods]) {
        clearTimeout(watched.timer);
        await watched.informer.stop();
      }
    },
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: number; code?: number | string }).statusCode ?? (error as { code?: number | string }).code;
    return status !== undefined ? `${error.message} (${String(status)})` : error.message;
  }
  return String(error);
}
