// Time compression for Prometheus rule files. The miniature cluster runs its agents 5× faster than production
// (1 s test intervals instead of 5 s), so the production alert rules are loaded with every duration divided by the
// same factor: each range `[5m]` (and subquery `[5m:1m]`, `offset 5m`) in an expression, and each rule's `for` and
// `keep_firing_for` (and a group's `interval`). Nothing else changes: the rules stay the shipped ones, time-scaled,
// never hand-written test rules. Durations must divide exactly to whole milliseconds, so a rule cannot silently
// change meaning through rounding.
import { parse, stringify } from 'yaml';

const UNIT_MS: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const UNITS_DESCENDING = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
const DURATION = /^(?:\d+(?:ms|[ywdhms]))+$/;

/** Milliseconds of a Prometheus duration (`1h30m`, `5m`, `500ms`; a bare number is seconds, as PromQL allows). */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  if (!DURATION.test(trimmed)) throw new Error(`not a Prometheus duration: "${text}"`);
  let total = 0;
  let previousUnit = -1;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|[ywdhms])/g)) {
    const rank = UNITS_DESCENDING.indexOf(unit as (typeof UNITS_DESCENDING)[number]);
    if (rank <= previousUnit) throw new Error(`not a Prometheus duration (units must descend): "${text}"`);
    previousUnit = rank;
    total += Number(amount) * UNIT_MS[unit as string]!;
  }
  return total;
}

/** A duration in Prometheus syntax, largest units first (`720000` → `12m`, `90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`cannot format ${ms} ms as a Prometheus duration`);
  let rest = ms;
  let out = '';
  for (const unit of UNITS_DESCENDING) {
    const size = UNIT_MS[unit]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** Divides a duration by `factor`; throws unless the result is a whole number of milliseconds. */
export function scaleDuration(text: string, factor: number): string {
  const ms = parseDuration(text);
  const scaled = ms / factor;
  if (!Number.isInteger(scaled) || scaled < 1) throw new Error(`duration "${text}" divided by ${factor} is not a whole number of milliseconds`);
  return formatDuration(scaled);
}

/**
 * Scales every time duration in a PromQL expression: range selectors `[5m]`, subqueries `[5m:1m]` (or `[5m:]`) and
 * `offset 5m`. String literals (label matcher values, which may hold regex brackets) and comments are left alone.
 */
export function scalePromqlDurations(expr: string, factor: number): string {
  let out = '';
  let index = 0;
  while (index < expr.length) {
    const char = expr[index]!;
    if (char === '"' || char === "'" || char === '`') {
      const end = endOfString(expr, index);
      out += expr.slice(index, end);
      index = end;
      continue;
    }
    if (char === '#') {
      const end = expr.indexOf('\n', index);
      const stop = end === -1 ? expr.length : end;
      out += expr.slice(index, stop);
      index = stop;
      continue;
    }
    if (char === '[') {
      const close = expr.indexOf(']', index);
      if (close === -1) throw new Error(`unbalanced "[" in expression at ${index}: ${expr}`);
      const inner = expr.slice(index + 1, close);
      const match = /^(\s*)([^:\s]+)(\s*)(?::(\s*)([^\s]*)(\s*))?$/.exec(inner);
      if (!match) throw new Error(`unexpected range "[${inner}]" in expression: ${expr}`);
      const [, lead = '', range = '', mid = '', stepLead, step, tail] = match;
      let scaled = `${lead}${scaleDuration(range, factor)}${mid}`;
      if (stepLead !== undefined) scaled += `:${stepLead}${step ? scaleDuration(step, factor) : ''}${tail ?? ''}`;
      out += `[${scaled}]`;
      index = close + 1;
      continue;
    }
    const offset = /^offset(\s+)(-?)([0-9a-z.]+)/.exec(expr.slice(index));
    if (offset && (index === 0 || !/[a-zA-Z0-9_:]/.test(expr[index - 1]!))) {
      out += `offset${offset[1]}${offset[2]}${scaleDuration(offset[3]!, factor)}`;
      index += offset[0].length;
      continue;
    }
    out += char;
    index++;
  }
  return out;
}

function endOfString(expr: string, start: number): number {
  const quote = expr[start]!;
  let index = start + 1;
  while (index < expr.length) {
    const char = expr[index]!;
    if (char === '\\' && quote !== '`') index += 2;
    else if (char === quote) return index + 1;
    else index++;
  }
  throw new Error(`unterminated string in expression: ${expr}`);
}

interface RuleFile {
  groups: { name: string; interval?: string; rules: Record<string, unknown>[] }[];
}

/** A parsed rule file with every duration divided by `factor` (a new object; the input is not changed). */
export function scaleRuleFile(document: unknown, factor: number): RuleFile {
  const file = structuredClone(document) as RuleFile;
  if (!file || !Array.isArray(file.groups)) throw new Error('not a Prometheus rule file: no "groups" list');
  for (const group of file.groups) {
    if (group.interval !== undefined) group.interval = scaleDuration(String(group.interval), factor);
    for (const rule of group.rules) {
      if (typeof rule.expr !== 'string') throw new Error(`rule ${String(rule.alert ?? rule.record)} has no expression`);
      rule.expr = scalePromqlDurations(rule.expr, factor);
      for (const key of ['for', 'keep_firing_for'] as const) {
        if (rule[key] !== undefined) rule[key] = scaleDuration(String(rule[key]), factor);
      }
    }
  }
  return file;
}

/** Rule file text (YAML) → time-scaled rule file text, with a header saying what was done. */
export function scaleRuleFileText(text: string, factor: number, origin = 'the production rules'): string {
  const scaled = scaleRuleFile(parse(text), factor);
  return `# ${origin}, every duration divided by ${factor} (e2e/time-scale.ts): generated, do not edit\n${stringify(scaled, { lineWidth: 0 })}`;
}
