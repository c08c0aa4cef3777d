// Counts the controller's API requests from the apiserver's audit log (the policy logs only its ServiceAccount): one
// request per audit ID, timed by requestReceivedTimestamp, grouped by verb and resource, with non-2xx codes noted.
import { readFile } from 'node:fs/promises';

export interface AuditedRequest {
  readonly id: string;
  /** Wall-clock ms when the apiserver received it. */
  readonly at: number;
  readonly verb: string;
  readonly resource: string;
  readonly code: number | undefined;
  readonly uri: string;
}

export async function readAuditedRequests(path: string, user: string): Promise<AuditedRequest[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const byId = new Map<string, AuditedRequest>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let event: {
      auditID?: string;
      user?: { username?: string };
      verb?: string;
      requestURI?: string;
      objectRef?: { resource?: string };
      requestReceivedTimestamp?: string;
      responseStatus?: { code?: number };
    };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue; // a line being written right now
    }
    if (!event.auditID || event.user?.username !== user) continue;
    const code = event.responseStatus?.code;
    const seen = byId.get(event.auditID);
    // A watch has a ResponseStarted and (when it ends) a ResponseComplete event; keep the first, and a code once known.
    if (seen) {
      if (seen.code === undefined && code !== undefined) byId.set(event.auditID, { ...seen, code });
      continue;
    }
    byId.set(event.auditID, {
      id: event.auditID,
      at: Date.parse(event.requestReceivedTimestamp ?? ''),
      verb: event.verb ?? '?',
      resource: event.objectRef?.resource ?? '?',
      code,
      uri: event.requestURI ?? '',
    });
  }
  return [...byId.values()].sort((a, b) => a.at - b.at);
}

export interface RequestCount {
  readonly total: number;
  /** e.g. { "list nodes": 1, "watch pods": 3 } */
  readonly byKind: Readonly<Record<string, number>>;
  /** Requests answered with a non-2xx code (e.g. 410 Gone forcing a re-list). */
  readonly errors: number;
}

export function countRequests(requests: readonly AuditedRequest[], from: number, to: number): RequestCount {
  const byKind: Record<string, number> = {};
  let total = 0;
  let errors = 0;
  for (const request of requests) {
    if (!(request.at >= from && request.at < to)) continue;
    total++;
    const kind = `${request.verb} ${request.resource}`;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (request.code !== undefined && (request.code < 200 || request.code > 299)) errors++;
  }
  return { total, byKind, errors };
}

export function formatCount(count: RequestCount): string {
  const kinds = Object.entries(count.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ');
  return `${count.total}${kinds ? ` (${kinds}${count.errors ? `; ${count.errors} non-2xx` : ''})` : ''}`;
}
