// The controller's state and fan-out: the current agent set, its version, and every connected agent's stream. Each
// update is diffed against the current set; a change is encoded once and written to every stream, so one change costs
// one JSON encoding whatever the number of agents.
import { randomUUID } from 'node:crypto';
import { type AgentEntry, type EncodedAgentList, encodeAgentList, encodeChange, encodeHeartbeat, encodeSnapshot } from '../protocol/agent-stream.ts';

/** What the hub needs of an agent's HTTP response. */
export interface StreamSink {
  write(chunk: string | Buffer): boolean;
  /** Bytes queued but not yet sent (a stuck agent is dropped past a limit). */
  readonly writableLength: number;
  end(): void;
  destroy(): void;
}

export interface Subscriber {
  readonly nodeName: string;
  readonly podName: string | undefined;
  readonly connectedAt: number;
}

export interface HubEvents {
  onChange?(change: { version: number; upserted: number; removed: number; subscribers: number }): void;
  onSlowSubscriberDropped?(subscriber: Subscriber): void;
}

export interface AgentHub {
  readonly id: string;
  /** The source's complete current set; returns true if it changed anything. */
  update(entries: readonly AgentEntry[]): boolean;
  /** Marks the source synced: until then there is no snapshot to give. */
  markSynced(): void;
  synced(): boolean;
  version(): number;
  entries(): AgentEntry[];
  /** Sends the snapshot and registers the stream for changes; returns the unsubscribe function. */
  subscribe(subscriber: Subscriber, sink: StreamSink): () => void;
  subscribers(): Subscriber[];
  subscriberCount(): number;
  heartbeat(): void;
  close(): void;
}

export interface AgentHubOptions {
  /** Zone of a node, for an agent's own metadata when no agent entry on its node exists yet. */
  readonly zoneOfNode: (nodeName: string) => string | undefined;
  /** A stream with more than this many bytes queued is dropped (the agent reconnects and resyncs). */
  readonly maxQueuedBytes?: number;
  readonly events?: HubEvents;
}

export function createAgentHub(options: AgentHubOptions): AgentHub {
  const id = randomUUID();
  const maxQueued = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  let current = new Map<string, AgentEntry>();
  let currentVersion = 0;
  let isSynced = false;
  /** The agent list of the current version, encoded once and shared by every snapshot written. */
  let cachedAgentList: EncodedAgentList | undefined;
  const sinks = new Map<StreamSink, Subscriber>();

  /** One encoding, the same bytes queued on every socket. */
  function broadcast(line: Buffer): void {
    for (const [sink, subscriber] of sinks) {
      sink.write(line);
      if (sink.writableLength > maxQueued) {
        sinks.delete(sink);
        sink.destroy();
        options.events?.onSlowSubscriberDropped?.(subscriber);
      }
    }
  }

  function agentList(): EncodedAgentList {
    cachedAgentList ??= encodeAgentList([...current.values()]);
    return cachedAgentList;
  }

  return {
    id,
    update(entries) {
      const next = new Map(entries.map((entry) => [entry.name, entry]));
      const upsert: AgentEntry[] = [];
      for (const [name, entry] of next) {
        const before = current.get(name);
        if (!before || !sameEntry(before, entry)) upsert.push(entry);
      }
      const remove = [...current.keys()].filter((name) => !next.has(name));
      current = next;
      if (upsert.length === 0 && remove.length === 0) return false;
      currentVersion++;
      cachedAgentList = undefined;
      if (isSynced) {
        broadcast(encodeChange({ version: currentVersion, upsert, remove }));
        options.events?.onChange?.({ version: currentVersion, upserted: upsert.length, removed: remove.length, subscribers: sinks.size });
      }
      return true;
    },
    markSynced() {
      isSynced = true;
    },
    synced: () => isSynced,
    version: () => currentVersion,
    entries: () => [...current.values()],
    subscribe(subscriber, sink) {
      const ownEntry = subscriber.podName === undefined ? undefined : current.get(subscriber.podName);
      const zone = options.zoneOfNode(subscriber.nodeName) ?? ownEntry?.zone ?? 'unknown';
      // Written in three parts so the (large) agent list is encoded once per version and its bytes shared by every
      // agent's socket, not copied per agent: 5,000 agents reconnecting at once would otherwise queue gigabytes.
      for (const chunk of encodeSnapshot({ version: currentVersion, controller: id, self: { nodeName: subscriber.nodeName, zone } }, agentList()))
        sink.write(chunk);
      sinks.set(sink, subscriber);
      return () => {
        sinks.delete(sink);
      };
    },
    subscribers: () => [...sinks.values()],
    subscriberCount: () => sinks.size,
    heartbeat() {
      if (isSynced) broadcast(encodeHeartbeat(currentVersion));
    },
    close() {
      for (const sink of sinks.keys()) sink.end();
      sinks.clear();
    },
  };
}

function sameEntry(a: AgentEntry, b: AgentEntry): boolean {
  return a.nodeName === b.nodeName && a.ip === b.ip && a.zone === b.zone && a.ready === b.ready;
}
