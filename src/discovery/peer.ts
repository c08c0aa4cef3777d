// A peer agent as discovery reports it, the shape of the original's `GET /agents` entries, and its validation.
import { z } from 'zod';
import { ipAddress } from '../config/schema.ts';
import { formatIssues } from '../config/format-issues.ts';

export interface Peer {
  /** Agent pod name (unique). */
  readonly name: string;
  /** Node the agent runs on: the `destination` label. */
  readonly nodeName: string;
  readonly ip: string;
  /** `destination_zone`; `unknown` when the node has no zone label. */
  readonly zone: string;
}

const peerSchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  nodeName: z.string({ error: 'must be a string' }).min(1, 'must not be empty'),
  ip: ipAddress,
  zone: z.string({ error: 'must be a string' }).min(1, 'must not be empty').default('unknown'),
}, { error: 'must be an object {name, nodeName, ip, zone}' });

export const peerListSchema = z.array(peerSchema, { error: 'must be a list of peers {name, nodeName, ip, zone}' }).superRefine((peers, ctx) => {
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

/** Identity of a peer for diffing: any change of name, node, address or zone is a removal plus an addition. */
export function peerKey(peer: Peer): string {
  return `${peer.name}\u0000${peer.nodeName}\u0000${peer.ip}\u0000${peer.zone}`;
}
