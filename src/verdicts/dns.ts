// DNS rules, per target: a node fails a target in a window when most of its queries failed. Nodes blamed by a
// reachability verdict are left out (their DNS failures are explained). A target failing from most nodes (and two of
// them) is a problem of the target or its servers; failing from some nodes only, a problem on those nodes' side.
// One verdict per target (id dns:<target>), whose kind follows the latest window.
import type { DnsView } from './pair-state.ts';
import type { VerdictThresholds } from './thresholds.ts';
import type { Finding } from './types.ts';
import { getOrCreate } from './get-or-create.ts';

export function findDnsProblems(views: readonly DnsView[], blamedNodes: ReadonlySet<string>, t: VerdictThresholds): Finding[] {
  const byTarget = new Map<string, { nodes: number; failing: string[] }>();
  for (const view of views) {
    if (view.tests === 0 || blamedNodes.has(view.source)) continue;
    const entry = getOrCreate(byTarget, view.target, () => ({ nodes: 0, failing: [] as string[] }));
    entry.nodes++;
    if (view.failed * 2 > view.tests) entry.failing.push(view.source);
  }
  const findings: Finding[] = [];
  for (const [target, entry] of byTarget) {
    if (entry.failing.length === 0) continue;
    entry.failing.sort();
    const everywhere = entry.failing.length >= 2 && entry.failing.length / entry.nodes >= t.dnsEverywhereShare;
    findings.push({
      id: `dns:${target}`,
      kind: everywhere ? 'dns-everywhere' : 'dns-some-nodes',
      subject: { target },
      evidence: { failing: entry.failing.length, of: entry.nodes, pairs: [], nodes: entry.failing.slice(0, t.maxEvidencePairs) },
    });
  }
  return findings;
}
