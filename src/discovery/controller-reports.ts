// Reports every probe outcome to every controller replica: each URL's host is resolved (again every 30 s, so a
// replaced replica is found) and every address it resolves to — each replica behind a headless Service name — gets
// its own ring and report stream, so a slow or absent replica loses only its own reports. Recording is a push into
// each ring — it never waits. A name that no longer resolves keeps its last addresses. See docs/design/verdicts.md
// ("From agents to the controller", "Two replicas, one answer").
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { RecordedOutcome } from '../probes/probe-kind.ts';
import { createReportQueue, type ReportDropReason, type ReportQueue } from './report-queue.ts';
import type { Logger } from '../log.ts';
import type { ProbeKind } from '../verdicts/types.ts';
import { startReportSender, type ReportSender } from './report-sender.ts';

/** Outcomes held per replica (~200 s of a node probing 10 peers at the default intervals). */
const DEFAULT_REPORT_QUEUE_CAPACITY = 10_000;
const DEFAULT_RESOLVE_INTERVAL_MS = 30_000;

/** Every address a host name resolves to. */
export type ResolveAll = (hostname: string) => Promise<string[]>;

const resolveWithSystem: ResolveAll = async (hostname) => (await lookup(hostname, { all: true })).map((entry) => entry.address);

export interface ControllerReportsOptions {
  readonly urls: readonly string[];
  readonly nodeName: string;
  readonly podName: string;
  readonly reconnect: { readonly min: number; readonly max: number };
  /** Outcomes older than this are dropped while no stream takes them (two verdict windows: the probe interval × 2). */
  readonly staleAfterMs: number;
  readonly capacity?: number;
  readonly token?: () => Promise<string | undefined>;
  readonly ca?: string | Buffer;
  readonly log: Logger;
  /** `controller` names the replica: the URL with its host replaced by the replica's address. */
  readonly onDrop: (controller: string, reason: ReportDropReason, count: number) => void;
  readonly resolve?: ResolveAll;
  readonly resolveIntervalMs?: number;
}

export interface ControllerReports {
  record(outcome: RecordedOutcome): void;
  /** The replicas reported to now (for tests and logs). */
  replicas(): string[];
  close(): Promise<void>;
}

interface Replica {
  readonly name: string;
  readonly queue: ReportQueue;
  readonly sender: ReportSender;
}

const REPORTED_KINDS: ReadonlySet<string> = new Set<ProbeKind>(['udp', 'tcp', 'dns']);

/** The URL with its host replaced by one address: the replica's name in metrics and logs. */
function replicaName(url: URL, address: string): string {
  const copy = new URL(url);
  copy.hostname = isIP(address) === 6 ? `[${address}]` : address;
  return copy.href.replace(/\/$/, '');
}

export function startControllerReports(options: ControllerReportsOptions): ControllerReports {
  const log = options.log.child({ component: 'controller-reports' });
  const resolve = options.resolve ?? resolveWithSystem;
  const replicas = new Map<string, Replica>();
  let closed = false;

  function open(url: string, address: string, name: string): Replica {
    const queue = createReportQueue({
      capacity: options.capacity ?? DEFAULT_REPORT_QUEUE_CAPACITY,
      staleAfterMs: options.staleAfterMs,
      onDrop: (reason, count) => options.onDrop(name, reason, count),
    });
    const sender = startReportSender({
      url,
      address,
      nodeName: options.nodeName,
      podName: options.podName,
      queue,
      reconnect: options.reconnect,
      log: options.log,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    return { name, queue, sender };
  }

  /** Each URL's replicas as last resolved (kept when its name fails to resolve). */
  const lastResolved = new Map<string, Map<string, string>>();
  let timer: NodeJS.Timeout | undefined;

  /** Resolves every URL and opens or closes replicas to match; returns whether every URL has at least one replica. */
  async function refresh(): Promise<boolean> {
    let complete = true;
    for (const url of options.urls) {
      const parsed = new URL(url);
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      try {
        const addresses = isIP(host) !== 0 ? [host] : await resolve(host);
        lastResolved.set(url, new Map(addresses.map((address) => [replicaName(parsed, address), address])));
      } catch (error) {
        log.warn({ url, error: (error as Error).message }, 'cannot resolve the controller name; reporting to its last addresses');
      }
      if ((lastResolved.get(url)?.size ?? 0) === 0) complete = false;
    }
    if (closed) return complete;
    const wanted = new Map<string, { url: string; address: string }>();
    for (const [url, names] of lastResolved) for (const [name, address] of names) wanted.set(name, { url, address });
    for (const [name, replica] of replicas) {
      if (wanted.has(name)) continue;
      replicas.delete(name);
      const left = replica.queue.size();
      if (left > 0) options.onDrop(name, 'stale', left);
      log.info({ controller: name }, 'controller replica gone; no longer reporting to it');
      void replica.sender.close();
    }
    for (const [name, { url, address }] of wanted) {
      if (replicas.has(name)) continue;
      replicas.set(name, open(url, address, name));
      log.info({ controller: name }, 'reporting to a controller replica');
    }
    return complete;
  }

  /** Re-resolves every interval; sooner (every second) while a URL has no replica yet. */
  const first = (async function loop(): Promise<void> {
    const complete = await refresh();
    if (!closed) timer = setTimeout(() => void loop(), complete ? (options.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS) : 1000);
  })();

  return {
    record(outcome) {
      if (!REPORTED_KINDS.has(outcome.kind)) return;
      const { kind, destination, packetsSent, packetsLost, rttMs, endedAt } = outcome;
      for (const { queue } of replicas.values()) queue.push({ kind: kind as ProbeKind, destination, packetsSent, packetsLost, rttMs, endedAt });
    },
    replicas: () => [...replicas.keys()].sort(),
    async close() {
      closed = true;
      await first;
      clearTimeout(timer);
      await Promise.all([...replicas.values()].map(({ sender }) => sender.close()));
      replicas.clear();
    },
  };
}
