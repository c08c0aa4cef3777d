// Turns schema validation issues into one line each that names the field: `udp.packets: must be ≥ 1`.
import type { z } from 'zod';

/** `['dns', 'targets', 1, 'type']` → `dns.targets[1].type`; `root` prefixes the path (e.g. `peers`). */
function formatIssuePath(path: readonly PropertyKey[], root = ''): string {
  let text = root;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text ? `.${String(key)}` : String(key);
  }
  return text || '(top level)';
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], root = ''): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatIssuePath([...issue.path, key], root)}: unknown key`);
    } else if (issue.code === 'invalid_union' && issue.errors.some((branch) => maxDepth(branch) > 0)) {
      // The value had the right shape for one branch (an object) but a bad field: report that field.
      const best = issue.errors.reduce((a, b) => (maxDepth(b) > maxDepth(a) ? b : a));
      lines.push(
        ...formatIssues(
          best.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })),
          root,
        ),
      );
    } else {
      lines.push(`${formatIssuePath(issue.path, root)}: ${issue.message}`);
    }
  }
  return lines;
}

function maxDepth(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((issue) => issue.path.length + (issue.code === 'unrecognized_keys' ? 1 : 0)));
}

/** An error carrying one line per problem; `kconmon` prints them and exits with status 2. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: invalid configuration\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
