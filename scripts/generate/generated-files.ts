// Every generated file of the repository, computed in memory from its one source: the chart's dashboard and alert
// rules (copies of deploy/, which Helm cannot read from outside the chart) and the chart's values.schema.json (from
// src/config). `npm run generate` writes them; test/generate/integrity.test.ts fails on any file that is stale.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { chartValuesSchema, type JsonSchema } from './chart-values-schema.ts';

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  /** What it is generated from (for messages). */
  readonly source: string;
  readonly content: Buffer;
}

/** deploy/ is the source: it is what Prometheus' rule tests and the dashboard tests run against, and what users
 * without Helm apply; the chart cannot reference files outside its directory, so it carries a generated copy. */
const CHART_COPIES: ReadonlyArray<{ readonly source: string; readonly copy: string }> = [
  { source: 'deploy/grafana/kconmon.json', copy: 'charts/kconmon/files/kconmon.json' },
  { source: 'deploy/prometheus/alerts.yaml', copy: 'charts/kconmon/files/alerts.yaml' },
];

export const VALUES_SCHEMA_BASE = 'scripts/generate/chart-values.base.schema.json';

export async function generatedFiles(root: string): Promise<GeneratedFile[]> {
  const files: GeneratedFile[] = [];
  for (const { source, copy } of CHART_COPIES) files.push({ path: copy, source, content: await readFile(path.join(root, source)) });
  const base = JSON.parse(await readFile(path.join(root, VALUES_SCHEMA_BASE), 'utf8')) as JsonSchema;
  const values = YAML.parse(await readFile(path.join(root, 'charts/kconmon/values.yaml'), 'utf8')) as Parameters<typeof chartValuesSchema>[1];
  files.push({
    path: 'charts/kconmon/values.schema.json',
    source: `${VALUES_SCHEMA_BASE}, src/config and charts/kconmon/values.yaml`,
    content: Buffer.from(`${JSON.stringify(chartValuesSchema(base, values), null, 2)}\n`),
  });
  return files;
}

/** One line per generated file under `root` that is missing or differs from what its source generates. */
export async function staleFiles(root: string): Promise<string[]> {
  const problems: string[] = [];
  for (const file of await generatedFiles(root)) {
    const current = await readFile(path.join(root, file.path)).catch(() => undefined);
    if (current === undefined) problems.push(`${file.path} is missing: run npm run generate (it is generated from ${file.source})`);
    else if (!current.equals(file.content)) {
      problems.push(`${file.path} is stale: it differs from what npm run generate makes from ${file.source} (edit the source, then run npm run generate)`);
    }
  }
  return problems;
}
