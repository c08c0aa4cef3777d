// The controller → agent push protocol, shared by both ends: the controller writes lines with the encoders below, the
// agent reads them with parseStreamLine. An agent opens `GET /v1/watch?node=<node>&pod=<pod>`
// and reads newline-delimited JSON: a versioned full snapshot first, then one change per update, and heartbeats.
// Versions count per stream; a gap means the agent missed something and must reconnect for a fresh snapshot.
// Changes are encoded once and written to every stream, so they carry nothing agent-specific: an agent learns a change
// of its own node's zone from the upserted entries on its node. Agent names are unique within a snapshot and within a
// change (a name upserted twice, removed twice, or both upserted and removed is rejected). The controller announces
// its heartbeat interval in a response header (old agents reject unknown message fields), and authenticates agents
// with a bearer token when it has one.
import { z } from 'zod';
import { ipAddress, nonEmptyString } from '../validation/validators.ts';
import { formatIssues } from '../validation/format-issues.ts';

/** An agent pod as the controller sees it. Only `ready` agents are probed; the echo answers all of them. */
export interface AgentEntry {
  readonly name: string;
  readonly nodeName: string;
  readonly ip: string;
  readonly zone: string;
  /** Running, Ready and not terminating: a probe target. */
  readonly ready: boolean;
}

const nonEmpty = nonEmptyString;

const agentEntrySchema = z.strictObject({
  name: nonEmpty,
  nodeName: nonEmpty,
  ip: ipAddress,
  zone: nonEmpty,
  ready: z.boolean({ error: 'must be true or false' }),
});

const version = z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be ≥ 0');

/** Adds an issue for every name met before in `seen` (name → where first met), naming both places. */
function checkUnique(names: readonly string[], field: string, seen: Map<string, string>, ctx: z.RefinementCtx, what: string): void {
  names.forEach((name, index) => {
    const first = seen.get(name);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [field, index], message: `duplicate agent name "${name}" ${what} (also ${first})` });
    else seen.set(name, `${field}[${index}]`);
  });
}

const streamMessageSchema = z.discriminatedUnion(
  'type',
  [
    z
      .strictObject({
        type: z.literal('snapshot'),
        version,
        controller: nonEmpty,
        self: z.strictObject({ nodeName: nonEmpty, zone: nonEmpty }),
        agents: z.array(agentEntrySchema, { error: 'must be a list of agents' }),
      })
      .superRefine((snapshot, ctx) =>
        checkUnique(
          snapshot.agents.map((entry) => entry.name),
          'agents',
          new Map(),
          ctx,
          'in the snapshot',
        ),
      ),
    z
      .strictObject({
        type: z.literal('change'),
        version,
        upsert: z.array(agentEntrySchema, { error: 'must be a list of agents' }),
        remove: z.array(nonEmpty, { error: 'must be a list of agent names' }),
      })
      .superRefine((change, ctx) => {
        const seen = new Map<string, string>();
        checkUnique(
          change.upsert.map((entry) => entry.name),
          'upsert',
          seen,
          ctx,
          'in the change',
        );
        checkUnique(change.remove, 'remove', seen, ctx, 'in the change');
      }),
    z.strictObject({ type: z.literal('heartbeat'), version }),
  ],
  { error: 'must have type snapshot, change or heartbeat' },
);

export type StreamMessage = z.output<typeof streamMessageSchema>;
export type SnapshotMessage = Extract<StreamMessage, { type: 'snapshot' }>;
export type ChangeMessage = Extract<StreamMessage, { type: 'change' }>;
export type HeartbeatMessage = Extract<StreamMessage, { type: 'heartbeat' }>;

/** One message as a line of NDJSON (the agent's decoder reads exactly this). */
export function encodeStreamMessage(message: StreamMessage): Buffer {
  if (message.type === 'snapshot') return Buffer.concat(encodeSnapshot(message, encodeAgentList(message.agents)));
  if (message.type === 'change') return encodeChange(message);
  return encodeHeartbeat(message.version);
}

/** An agent list encoded once per version, its bytes shared by every snapshot written (see encodeSnapshot). */
export type EncodedAgentList = Buffer & { readonly __encodedAgentList: true };

/** Only the protocol's fields of each entry: an object with more (a wider type) would be rejected by the agents. */
function protocolEntry(entry: AgentEntry): AgentEntry {
  return { name: entry.name, nodeName: entry.nodeName, ip: entry.ip, zone: entry.zone, ready: entry.ready };
}

export function encodeAgentList(agents: readonly AgentEntry[]): EncodedAgentList {
  return Buffer.from(JSON.stringify(agents.map(protocolEntry))) as EncodedAgentList;
}

/**
 * A snapshot line in three chunks — head, the shared agent list, tail — written in turn to one socket: the (large)
 * list is encoded once per version and its bytes shared by every agent's socket, not copied per agent.
 */
export function encodeSnapshot(snapshot: Omit<SnapshotMessage, 'type' | 'agents'>, agents: EncodedAgentList): [Buffer, EncodedAgentList, Buffer] {
  const message: SnapshotMessage = { type: 'snapshot', version: snapshot.version, controller: snapshot.controller, self: snapshot.self, agents: [] };
  const empty = JSON.stringify(message);
  // The encoding of the message with an empty list ends with `[]}`: the list goes where `[]` was.
  return [Buffer.from(empty.slice(0, -'[]}'.length)), agents, Buffer.from('}\n')];
}

export function encodeChange(change: Omit<ChangeMessage, 'type'>): Buffer {
  const message: ChangeMessage = { type: 'change', version: change.version, upsert: change.upsert.map(protocolEntry), remove: change.remove };
  return Buffer.from(`${JSON.stringify(message)}\n`);
}

export function encodeHeartbeat(version: number): Buffer {
  const message: HeartbeatMessage = { type: 'heartbeat', version };
  return Buffer.from(`${JSON.stringify(message)}\n`);
}

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
/** Response header of a watch: the controller's heartbeat interval in ms (agents derive their liveness timeout). */
export const HEARTBEAT_HEADER = 'x-kconmon-heartbeat-ms';
/** The largest message an agent accepts (a snapshot of ~100,000 agents); a longer line fails the stream. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
