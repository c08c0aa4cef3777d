// docs/configuration.md's key tables are a hand-kept copy of the agent and controller config schemas (src/config):
// every key of the schema has a row, every row names a key of the schema, and the row's default and range (bounds,
// allowed values, pattern) are the schema's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { controllerConfigSchema } from '../../src/config/controller-schema.ts';
import { agentConfigSchema } from '../../src/config/schema.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DOC = readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');

type JsonSchema = { [keyword: string]: unknown };

/** Every leaf key of a schema (objects with properties are walked), dotted, with its JSON Schema. */
function leaves(schema: JsonSchema, prefix = ''): Map<string, JsonSchema> {
  const found = new Map<string, JsonSchema>();
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (child.properties) for (const [leaf, leafSchema] of leaves(child, dotted)) found.set(leaf, leafSchema);
    else found.set(dotted, child);
  }
  return found;
}

interface Row {
  readonly key: string;
  readonly defaultText: string;
  readonly rangeText: string | undefined;
}

/**
 * The rows of the first table after `heading` whose header starts with `| key | default |`. A row naming two keys
 * (`jitter.min` / `jitter.max`, or `a.b.min` / `max`) becomes two rows, with the two defaults split the same way.
 */
function tableRows(heading: string): Row[] {
  const start = DOC.indexOf(heading);
  assert.ok(start >= 0, `docs/configuration.md has no "${heading}"`);
  const lines = DOC.slice(start).split('\n');
  const header = lines.findIndex((line) => line.startsWith('| key | default |'));
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim());
    const hasRange = (lines[header] as string).includes('| range |');
    const keys = (cells[0] as string).split(' / ').map((key) => key.replaceAll('`', ''));
    const defaults = (cells[1] as string).split(' / ').map((text) => text.replaceAll('`', ''));
    keys.forEach((key, index) => {
      const full = index > 0 && !key.includes('.') ? `${(keys[0] as string).slice(0, (keys[0] as string).lastIndexOf('.') + 1)}${key}` : key;
      rows.push({ key: full, defaultText: defaults[index] ?? (defaults[0] as string), rangeText: hasRange ? (cells[2] as string) : undefined });
    });
  }
  return rows;
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** `runtimeDefaults`: keys whose default is computed at start-up (the schema has none), described in words. */
function checkTable(heading: string, schema: z.ZodType, runtimeDefaults: ReadonlySet<string> = new Set()): void {
  const keys = leaves(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
  const rows = tableRows(heading);
  assert.deepEqual(rows.map((row) => row.key).sort(), [...keys.keys()].sort(), `${heading}: keys`);
  for (const row of rows) {
    const leaf = keys.get(row.key) as JsonSchema;
    if (runtimeDefaults.has(row.key)) assert.equal(leaf.default, undefined, `${row.key}: the schema has a default now`);
    else assert.equal(row.defaultText, formatDefault(leaf.default), `${row.key}: default`);
    if (row.rangeText === undefined) continue;
    const range = row.rangeText.split(',')[0] as string;
    if (leaf.minimum !== undefined) assert.equal(range, `${leaf.minimum}–${leaf.maximum}`, `${row.key}: range`);
    else if (leaf.enum !== undefined) assert.equal(row.rangeText, (leaf.enum as string[]).join(', '), `${row.key}: allowed values`);
    else if (leaf.pattern !== undefined) assert.equal(`^${row.rangeText.replaceAll('`', '')}$`, leaf.pattern, `${row.key}: pattern`);
  }
}

describe('docs/configuration.md', () => {
  it('the agent keys table: every key, its default and range as in src/config/schema.ts', () => {
    checkTable('## Keys', agentConfigSchema);
  });

  it('the controller keys table: every key and its default as in src/config/controller-schema.ts', () => {
    checkTable('# Controller configuration', controllerConfigSchema, new Set(['source.kubernetes.namespace']));
  });
});
