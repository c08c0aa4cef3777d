// A bounded record of recent results: the latest per (test, target) and the last failures, for `/results` and the demo.
import type { ResultEntry } from './results.ts';

export interface ResultHistory {
  add(entry: ResultEntry): void;
  forget(test: ResultEntry['test'], target: string): void;
  snapshot(): { latest: ResultEntry[]; failures: ResultEntry[] };
}

export function createResultHistory(maxFailures = 100): ResultHistory {
  const latest = new Map<string, ResultEntry>();
  const failures: ResultEntry[] = [];
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
