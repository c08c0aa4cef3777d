// The agent → controller report protocol, shared by both ends: the agent writes batches with encodeReportBatch, the
// controller reads them with parseReportLine. An agent opens `POST /v1/reports?node=<node>&pod=<pod>` per controller
// replica (same bearer token and controller proof as the watch) and writes one NDJSON line per batch:
// `{"v":1,"sent":<agent monotonic ms>,"r":[["u","node-7",5,0,0.412,180],…]}` — kind (u/t/d), destination node or DNS
// target label, packets sent, lost, RTT ms (null if none) and age in ms (time since the probe ended, on the agent's
// monotonic clock). The controller answers at once (headers with the proof) and then writes a heartbeat line every
// heartbeat interval, so the agent notices a controller that stopped answering. See docs/design/verdicts.md.
import { z } from 'zod';
import { formatIssues } from '../validation/format-issues.ts';
import type { ProbeKind } from '../verdicts/types.ts';

export const REPORTS_PATH = '/v1/reports';
/** The longest batch line either end accepts (~30 bytes per outcome: about 30,000 outcomes). */
export const MAX_REPORT_LINE_BYTES = 1024 * 1024;
/** The most outcomes in one batch (the sender cuts its ring into batches of at most this many). */
export const MAX_OUTCOMES_PER_BATCH = 10_000;
/** Longest destination name: a Kubernetes node name or a DNS target label. */
const MAX_DESTINATION_LENGTH = 253;

const KIND_CODES = { udp: 'u', tcp: 't', dns: 'd' } as const satisfies Record<ProbeKind, string>;
type KindCode = (typeof KIND_CODES)[ProbeKind];
const KIND_OF_CODE: Record<KindCode, ProbeKind> = { u: 'udp', t: 'tcp', d: 'dns' };

/** One probe outcome as reported: what the verdict engine needs, nothing more. */
export interface ReportedOutcome {
  readonly kind: ProbeKind;
  /** Destination node, or the DNS target's label. */
  readonly destination: string;
  readonly packetsSent: number;
  readonly packetsLost: number;
  /** RTT of the answered packets (mean), TCP total time or DNS query time; undefined if none. */
  readonly rttMs: number | undefined;
  /** Milliseconds since the probe ended, on the agent's monotonic clock, when the batch was written. */
  readonly ageMs: number;
}

export interface ReportBatch {
  /** The agent's monotonic clock (ms) when the batch was written; informative only. */
  readonly sent: number;
  readonly outcomes: readonly ReportedOutcome[];
}

const count = z.number({ error: 'must be a number' }).int('must be an integer').min(0, 'must be ≥ 0').max(1_000_000, 'must be ≤ 1000000');

const outcomeSchema = z
  .tuple(
    [
      z.enum(['u', 't', 'd'], { error: 'kind must be u, t or d' }),
      z.string({ error: 'destination must be a string' }).min(1, 'destination must not be empty').max(MAX_DESTINATION_LENGTH, 'destination is too long'),
      count,
      count,
      z.number({ error: 'RTT must be a number or null' }).min(0, 'RTT must be ≥ 0').finite('RTT must be finite').nullable(),
      z.number({ error: 'age must be a number' }).int('age must be an integer').min(0, 'age must be ≥ 0').max(86_400_000, 'age must be ≤ 1 day'),
    ],
    { error: 'must be [kind, destination, sent, lost, rttMs, ageMs]' },
  )
  .superRefine(([, , sent, lost], ctx) => {
    if (lost > sent) ctx.addIssue({ code: 'custom', path: [3], message: `lost (${lost}) must be ≤ sent (${sent})` });
  });

const batchSchema = z.strictObject(
  {
    v: z.literal(1, { error: 'must be 1 (the report protocol version)' }),
    sent: z.number({ error: 'must be a number' }).finite('must be finite'),
    r: z.array(outcomeSchema, { error: 'must be a list of outcomes' }).max(MAX_OUTCOMES_PER_BATCH, `must hold at most ${MAX_OUTCOMES_PER_BATCH} outcomes`),
  },
  { error: 'must be an object' },
);

/** One batch as a line of NDJSON (the controller's decoder reads exactly this). */
export function encodeReportBatch(batch: ReportBatch): Buffer {
  const rows = batch.outcomes.map((outcome) => [
    KIND_CODES[outcome.kind],
    outcome.destination,
    outcome.packetsSent,
    outcome.packetsLost,
    outcome.rttMs === undefined || !Number.isFinite(outcome.rttMs) ? null : Math.round(outcome.rttMs * 1000) / 1000,
    Math.max(0, Math.round(outcome.ageMs)),
  ]);
  return Buffer.from(`${JSON.stringify({ v: 1, sent: Math.round(batch.sent), r: rows })}\n`);
}

const isCount = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 1_000_000;

/**
 * The batch of a document the schema certainly accepts, or undefined (then the schema decides): the same rules, checked
 * conservatively — `{v: 1, sent, r}` with no other key, at most MAX_OUTCOMES_PER_BATCH outcomes of exactly six fields.
 */
export function validBatch(document: unknown): ReportBatch | undefined {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined;
  const { v, sent, r } = document as { v?: unknown; sent?: unknown; r?: unknown };
  if (v !== 1 || typeof sent !== 'number' || !Number.isFinite(sent) || !Array.isArray(r) || r.length > MAX_OUTCOMES_PER_BATCH) return undefined;
  let keys = 0;
  for (const key in document) {
    if (!Object.hasOwn(document, key)) continue;
    if (key !== 'v' && key !== 'sent' && key !== 'r') return undefined;
    keys++;
  }
  if (keys !== 3) return undefined;
  const outcomes: ReportedOutcome[] = new Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const row: unknown = r[i];
    if (!Array.isArray(row) || row.length !== 6) return undefined;
    const [code, destination, packetsSent, packetsLost, rtt, ageMs] = row as unknown[];
    if (code !== 'u' && code !== 't' && code !== 'd') return undefined;
    if (typeof destination !== 'string' || destination.length < 1 || destination.length > MAX_DESTINATION_LENGTH) return undefined;
    if (!isCount(packetsSent) || !isCount(packetsLost) || packetsLost > packetsSent) return undefined;
    if (rtt !== null && (typeof rtt !== 'number' || !Number.isFinite(rtt) || rtt < 0)) return undefined;
    if (!Number.isInteger(ageMs) || (ageMs as number) < 0 || (ageMs as number) > 86_400_000) return undefined;
    outcomes[i] = { kind: KIND_OF_CODE[code], destination, packetsSent, packetsLost, rttMs: rtt ?? undefined, ageMs: ageMs as number };
  }
  return { sent, outcomes };
}

/** Parses one line; returns the batch or the problems, each naming the field (`r[3][2]: must be ≥ 0`). */
export function parseReportLine(line: string): { batch: ReportBatch } | { problems: string[] } {
  let document: unknown;
  try {
    document = JSON.parse(line);
  } catch (error) {
    return { problems: [`not JSON: ${(error as Error).message}`] };
  }
  // The common case — a valid batch — in one pass without the schema's allocations (tens of thousands of outcomes a
  // second at 5,000 agents); anything else goes through the schema, which names the problems.
  const fast = validBatch(document);
  return fast !== undefined ? { batch: fast } : schemaBatch(document);
}

/** A parsed document through the schema: the batch, or the problems naming each bad field. */
export function schemaBatch(document: unknown): { batch: ReportBatch } | { problems: string[] } {
  const result = batchSchema.safeParse(document);
  if (!result.success) return { problems: formatIssues(result.error.issues) };
  const outcomes = result.data.r.map(([code, destination, packetsSent, packetsLost, rtt, ageMs]) => ({
    kind: KIND_OF_CODE[code],
    destination,
    packetsSent,
    packetsLost,
    rttMs: rtt ?? undefined,
    ageMs,
  }));
  return { batch: { sent: result.data.sent, outcomes } };
}

/** The controller's heartbeat line on a report stream (the agent only checks that complete lines keep coming). */
export const REPORT_HEARTBEAT = Buffer.from('{"v":1}\n');
