// A peer agent as discovery reports it, the shape of the original's `GET /agents` entries, and its validation.
import { z } from 'zod';
import { ipAddress, nonEmptyString } from '../validation/validators.ts';
import { formatIssues } from '../validation/format-issues.ts';

export interface Peer {
  /** Agent pod name (unique). */
  readonly name: string;
  /** Node the agent runs on: the `destination` label. */
  readonly nodeName: string;
  readonly ip: string;
  /** `destination_zone`; `unknown` when the node has no zone label. */
  readonly zone: string;
}

const peerSchema = z.strictObject(
  {
    name: nonEmptyString,
    nodeName: nonEmptyString,
    ip: ipAddress,
    zone: nonEmptyString.default('unknown'),
  },
  { error: 'must be an object {name, nodeName, ip, zone}' },
);

const peerListSchema = z.array(peerSchema, { error: 'must be a list of peers {name, nodeName, ip, zone}' }).superRefine((peers, ctx) => {
  for (const field of ['name', 'nodeName'] as const) {
    const seen = new Map<string, number>();
    peers.forEach((peer, index) => {
      const first = seen.get(peer[field]);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, field], message: `duplicate of peers[${first}].${field} "${peer[field]}"` });
      else seen.set(peer[field], index);
    });
  }
});

/** Validates a peer list; returns the peers or one message per problem, naming the entry (`peers[2].ip: …`). */
export function parsePeerList(document: unknown): { peers: Peer[] } | { problems: string[] } {
  const result = peerListSchema.safeParse(document);
  if (result.success) return { peers: result.data };
  return { problems: formatIssues(result.error.issues, 'peers') };
}

/**
 * At most one probe target per node, whatever discovery sent (the controller already elects one; an older controller
 * or a bug might not). Of several peers on one node the one probed now is kept, else the last listed. `duplicates`
 * names each node that had more than one, for a warning.
 */
export function onePeerPerNode(peers: readonly Peer[], probedNow: (nodeName: string) => Peer | undefined): { peers: Peer[]; duplicates: string[] } {
  const byNode = new Map<string, Peer[]>();
  for (const peer of peers) {
    const list = byNode.get(peer.nodeName);
    if (list) list.push(peer);
    else byNode.set(peer.nodeName, [peer]);
  }
  const chosen: Peer[] = [];
  const duplicates: string[] = [];
  for (const [nodeName, list] of byNode) {
    if (list.length === 1) {
      chosen.push(list[0]!);
      continue;
    }
    duplicates.push(`${nodeName} (${list.map((peer) => `${peer.name} ${peer.ip}`).join(', ')})`);
    const current = probedNow(nodeName);
    chosen.push(list.find((peer) => current !== undefined && peerKey(peer) === peerKey(current)) ?? list[list.length - 1]!);
  }
  return { peers: chosen, duplicates };
}

/** Identity of a peer's agent for diffing: a change of name, node, address or zone restarts its probe loops. */
export function peerKey(peer: Peer): string {
  return `${peer.name}\u0000${peer.nodeName}\u0000${peer.ip}\u0000${peer.zone}`;
}
