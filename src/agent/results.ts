// The `/results` contract, derived from the probe table: one entry type per probe kind (its `test` name and typed
// summary), and the whole document. The agent's HTTP server, the demo and the end-to-end suite share these types.
import type { ProbeKind } from '../probes/probe-kind.ts';
import type { ProbeResultEntry } from './probe-kinds.ts';
import type { ProbeTable } from './probe-table.ts';

type EntryOf<Entry> = Entry extends { readonly probe: ProbeKind<infer Name, infer _Target, infer _Options, infer _Result, infer Summary, infer _Events> }
  ? ProbeResultEntry<Name, Summary>
  : never;

/** One result of any kind; `test` tells which, and with it the type of `summary`. */
export type ResultEntry = EntryOf<ProbeTable[number]>;

/** `GET /results`. */
export interface AgentResults {
  readonly node: string;
  readonly zone: string;
  readonly pod: string;
  readonly ip: string | null;
  /** Peers probed now. */
  readonly peers: number;
  /** The latest result per (kind, target). */
  readonly latest: readonly ResultEntry[];
  /** The last failures, oldest first. */
  readonly failures: readonly ResultEntry[];
}
