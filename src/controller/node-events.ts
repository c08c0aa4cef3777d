// Opt-in Kubernetes Events on the Node for node verdicts (controller `events.enabled`): a Warning when a verdict about
// a node is raised, a Normal one when it clears. core/v1 Events in namespace `default` — where the API keeps events
// about cluster-scoped objects, and what `kubectl describe node` and `kubectl get events` show with their count.
// Never spam: one Event per node and reason (a deterministic name), written at most once per `minIntervalMs`; a
// verdict that flaps in between is folded into that Event's count at the next write. Two replicas raise the same
// verdict at the same window boundary: before each write the Event is read, and one written by another replica within
// the last two windows is taken as this occurrence already recorded. Writes run one at a time off the window close;
// a failure (RBAC denied, API down) is one log line until a write succeeds again, and never touches the verdicts.
import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Verdict } from '../verdicts/types.ts';

/** The namespace of Events about cluster-scoped objects (the API rejects them elsewhere for core/v1). */
export const NODE_EVENTS_NAMESPACE = 'default';
export const NODE_EVENTS_COMPONENT = 'kconmon-controller';
const MAX_MESSAGE_CHARS = 1024;
const MAX_NAME_CHARS = 253;
/** Event state without pending occurrences is forgotten after this long (the apiserver's default event TTL). */
const FORGET_AFTER_MS = 3_600_000;

export type NodeEventResult = 'written' | 'folded' | 'failed';

export interface NodeEventsOptions {
  readonly kubeConfig: KubeConfig;
  /** This replica (the Events' reportingInstance). */
  readonly replica: string;
  readonly minIntervalMs: number;
  /** The verdict window: an Event another replica wrote within two windows is this same occurrence. */
  readonly windowMs: number;
  /** Wall clock in Unix ms (the Events' timestamps). */
  readonly now: () => number;
  /** The Node's uid, if known (kubectl describe node matches events by the node's uid or its name). */
  readonly nodeUid: (node: string) => string | undefined;
  readonly log: Logger;
  readonly onResult?: (result: NodeEventResult) => void;
}

export interface NodeEvents {
  /** The active verdicts after a window closed: an Event for each node verdict raised or cleared since the last call. */
  update(verdicts: readonly Verdict[]): void;
  /** Resolves once every write queued so far has finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface EventState {
  readonly name: string;
  readonly node: string;
  readonly reason: string;
  readonly type: 'Warning' | 'Normal';
  message: string;
  /** Occurrences not yet written. */
  pending: number;
  /** When this replica last wrote (or found written) the Event; -Infinity before. */
  lastWrite: number;
  writing: boolean;
}

interface ActiveNodeVerdict {
  readonly node: string;
  readonly kind: Verdict['kind'];
  readonly summary: string;
}

const pascal = (kind: string) => kind.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/** `KconmonNodeDestination`, `KconmonLossyNodeCleared`, … */
export function eventReason(kind: Verdict['kind'], cleared: boolean): string {
  return `Kconmon${pascal(kind)}${cleared ? 'Cleared' : ''}`;
}

/** `<node>.kconmon-<reason>` in lower case, or a hash of the node name when that would be too long. */
export function eventName(node: string, reason: string): string {
  const suffix = `.kconmon-${reason.toLowerCase()}`;
  const name = `${node}${suffix}`;
  return name.length <= MAX_NAME_CHARS ? name : `kconmon-${createHash('sha256').update(node).digest('hex').slice(0, 32)}${suffix}`;
}

function raisedMessage(verdict: Verdict): string {
  const { evidence } = verdict;
  const pairs = evidence.pairs.map((pair) => `${pair.source}→${pair.destination}`).join(', ');
  const message = `${verdict.summary}${pairs === '' ? '' : `; pairs: ${pairs}`}`;
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function describeFailure(error: unknown): string {
  if (error instanceof ApiException) {
    if (error.code === 403) {
      return (
        `forbidden (403): the controller's account needs get, create and patch on events in namespace ${NODE_EVENTS_NAMESPACE} ` +
        '(the chart grants it with controller.config.events.enabled=true)'
      );
    }
    return `the API answered ${error.code}`;
  }
  return (error as Error).message ?? String(error);
}

export function startNodeEvents(options: NodeEventsOptions): NodeEvents {
  const log = options.log.child({ component: 'node-events' });
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const namespace = NODE_EVENTS_NAMESPACE;
  const states = new Map<string, EventState>();
  let active = new Map<string, ActiveNodeVerdict>();
  let queue: Promise<void> = Promise.resolve();
  /** The failure last logged; cleared by a successful write, so each outage is one line. */
  let lastFailure: string | undefined;
  let closed = false;

  function occur(node: string, reason: string, type: EventState['type'], message: string): void {
    const name = eventName(node, reason);
    let state = states.get(name);
    if (state === undefined) {
      state = { name, node, reason, type, message, pending: 0, lastWrite: Number.NEGATIVE_INFINITY, writing: false };
      states.set(name, state);
    }
    state.message = message;
    state.pending++;
    if (!due(state)) options.onResult?.('folded');
  }

  const due = (state: EventState) => !state.writing && state.pending > 0 && options.now() - state.lastWrite >= options.minIntervalMs;

  function flush(): void {
    const now = options.now();
    for (const state of states.values()) {
      if (due(state)) {
        state.writing = true;
        queue = queue.then(() => write(state));
      } else if (state.pending === 0 && !state.writing && now - state.lastWrite > FORGET_AFTER_MS) states.delete(state.name);
    }
  }

  async function write(state: EventState): Promise<void> {
    const occurrences = state.pending;
    state.pending = 0;
    const now = options.now();
    try {
      const existing = await core.readNamespacedEvent({ name: state.name, namespace }).catch((error: unknown) => {
        if (error instanceof ApiException && error.code === 404) return undefined;
        throw error;
      });
      const last = existing?.lastTimestamp ?? existing?.firstTimestamp;
      // Timestamps have whole seconds: one second more.
      const sameOccurrence =
        existing !== undefined &&
        last !== undefined &&
        existing.reportingInstance !== options.replica &&
        now - new Date(last).getTime() <= 2 * options.windowMs + 1000;
      if (sameOccurrence) {
        // Another replica recorded this occurrence: one count per occurrence, whichever replica saw it first.
        options.onResult?.('folded');
      } else if (existing === undefined) {
        const created = await core.createNamespacedEvent({ namespace, body: newEvent(state, occurrences, now) }).then(
          () => true,
          (error: unknown) => {
            // Another replica created it between the read and this create: the same occurrence.
            if (error instanceof ApiException && error.code === 409) return false;
            throw error;
          },
        );
        options.onResult?.(created ? 'written' : 'folded');
      } else {
        const patch = [
          { op: 'add', path: '/count', value: (existing.count ?? 1) + occurrences },
          { op: 'add', path: '/lastTimestamp', value: new Date(now).toISOString() },
          { op: 'add', path: '/message', value: state.message },
          { op: 'add', path: '/reportingInstance', value: options.replica },
        ];
        await core.patchNamespacedEvent({ name: state.name, namespace, body: patch });
        options.onResult?.('written');
      }
      state.lastWrite = now;
      if (lastFailure !== undefined) log.info({ event: state.name }, 'node events written again');
      lastFailure = undefined;
    } catch (error) {
      // Kept for the next try (after minInterval): nothing is lost while the API or the RBAC is fixed.
      state.pending += occurrences;
      state.lastWrite = now;
      options.onResult?.('failed');
      const problem = describeFailure(error);
      if (problem !== lastFailure)
        log.warn({ event: state.name, node: state.node, reason: state.reason }, `cannot write node events: ${problem}; verdicts are unaffected`);
      lastFailure = problem;
    } finally {
      state.writing = false;
    }
  }

  function newEvent(state: EventState, count: number, now: number): CoreV1Event {
    const time = new Date(now);
    return {
      metadata: { name: state.name, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Node', name: state.node, uid: options.nodeUid(state.node) ?? state.node },
      reason: state.reason,
      message: state.message,
      type: state.type,
      count,
      firstTimestamp: time,
      lastTimestamp: time,
      source: { component: NODE_EVENTS_COMPONENT },
      reportingComponent: NODE_EVENTS_COMPONENT,
      reportingInstance: options.replica,
    };
  }

  return {
    update(verdicts) {
      if (closed) return;
      const current = new Map<string, ActiveNodeVerdict>();
      for (const verdict of verdicts) {
        const node = verdict.subject.node;
        if (node === undefined) continue;
        current.set(verdict.id, { node, kind: verdict.kind, summary: verdict.summary });
        if (!active.has(verdict.id)) occur(node, eventReason(verdict.kind, false), 'Warning', raisedMessage(verdict));
      }
      for (const [id, gone] of active) {
        if (!current.has(id)) occur(gone.node, eventReason(gone.kind, true), 'Normal', `cleared: ${gone.summary}`);
      }
      active = current;
      flush();
    },
    idle: () => queue,
    async close() {
      closed = true;
      await queue;
    },
  };
}
