// A bounded record of recent results: the latest per (test, target) and the last failures, for `/results` and the demo.
export interface HistoryEntry {
  readonly test: 'udp' | 'tcp' | 'dns';
  /** Destination node name, or the DNS target's label. */
  readonly target: string;
  readonly targetZone: string | undefined;
  readonly at: string;
  readonly passed: boolean;
  readonly summary: Record<string, unknown>;
}

export interface ResultHistory {
  add(entry: HistoryEntry): void;
  forget(test: HistoryEntry['test'], target: string): void;
  snapshot(): { latest: HistoryEntry[]; failures: HistoryEntry[] };
}

export function createResultHistory(maxFailures = 100): ResultHistory {
  const latest = new Map<string, HistoryEntry>();
  const failures: HistoryEntry[] = [];
  return {
    add(entry) {
      latest.set(`${entry.test}/${entry.target}`, entry);
      if (!entry.passed) {
        failures.push(entry);
        if (failures.length > maxFailures) failures.shift();
      }
    },
    forget(test, target) {
      latest.delete(`${test}/${target}`);
    },
    snapshot: () => ({ latest: [...latest.values()], failures: [...failures] }),
  };
}
