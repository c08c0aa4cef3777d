// The controller → agent push protocol, shared by both ends. An agent opens `GET /v1/watch?node=<node>&pod=<pod>`
// and reads newline-delimited JSON: a versioned full snapshot first, then one change per update, and heartbeats.
// Versions count per stream; a gap means the agent missed something and must reconnect for a fresh snapshot.
// Changes are encoded once and written to every stream, so they carry nothing agent-specific: an agent learns a change
// of its own node's zone from the upserted entries on its node.
import { z } from 'zod';
import { ipAddress } from '../config/schema.ts';
import { formatIssues } from '../config/format-issues.ts';

/** An agent pod as the controller sees it. Only `ready` agents are probed; the echo answers all of them. */
export interface AgentEntry {
  readonly name: string;
  readonly nodeName: string;
  readonly ip: string;
  readonly zone: string;
  /** Running, Ready and not terminating: a probe target. */
  readonly ready: boolean;
}

const nonEmpty = z.string({ error: 'must be a string' }).min(1, 'must not be empty');

export const agentEntrySchema = z.strictObject({
  name: nonEmpty,
  nodeName: nonEmpty,
  ip: ipAddress,
  zone: nonEmpty,
  ready: z.boolean({ error: 'must be true or false' }),
});

const version = z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be ≥ 0');

export const streamMessageSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('snapshot'),
      version,
      controller: nonEmpty,
      self: z.strictObject({ nodeName: nonEmpty, zone: nonEmpty }),
      agents: z.array(agentEntrySchema, { error: 'must be a list of agents' }),
    }),
    z.strictObject({
      type: z.literal('change'),
      version,
      upsert: z.array(agentEntrySchema, { error: 'must be a list of agents' }),
      remove: z.array(nonEmpty, { error: 'must be a list of agent names' }),
    }),
    z.strictObject({ type: z.literal('heartbeat'), version }),
  ],
  { error: 'must have type snapshot, change or heartbeat' },
);

export type StreamMessage = z.output<typeof streamMessageSchema>;
export type SnapshotMessage = Extract<StreamMessage, { type: 'snapshot' }>;
export type ChangeMessage = Extract<StreamMessage, { type: 'change' }>;

/** Parses one line; returns the message or the problems, each naming the field (`agents[3].ip: …`). */
export function parseStreamLine(line: string): { message: StreamMessage } | { problems: string[] } {
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch (error) {
    return { problems: [`not JSON: ${(error as Error).message}`] };
  }
  const result = streamMessageSchema.safeParse(document);
  if (!result.success) return { problems: formatIssues(result.error.issues) };
  return { message: result.data };
}

export const WATCH_PATH = '/v1/watch';
export const STREAM_CONTENT_TYPE = 'application/x-ndjson';
