// Every generated file (scripts/generate/generated-files.ts) equals what its source generates today: a hand edit of
// a copy, or a source edited without `npm run generate`, fails here naming the stale file and its source.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generatedFiles, staleFiles, VALUES_SCHEMA_BASE } from '../../scripts/generate/generated-files.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('generated files (npm run generate)', () => {
  it('every generated file equals what its source generates', async () => {
    assert.deepEqual(await staleFiles(ROOT), []);
  });

  it('names a copy edited by hand, and a source changed without regenerating', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kconmon-generate-'));
    try {
      for (const source of ['deploy', 'charts', VALUES_SCHEMA_BASE]) await cp(path.join(ROOT, source), path.join(dir, source), { recursive: true });
      assert.deepEqual(await staleFiles(dir), []);
      const files = await generatedFiles(dir);
      assert.deepEqual(files.map((file) => file.path).sort(), [
        'charts/kconmon/files/alerts.yaml',
        'charts/kconmon/files/kconmon.json',
        'charts/kconmon/values.schema.json',
      ]);
      await writeFile(path.join(dir, 'charts/kconmon/files/alerts.yaml'), '# edited by hand\n', { flag: 'a' });
      await writeFile(path.join(dir, 'deploy/grafana/kconmon.json'), '\n', { flag: 'a' });
      await rm(path.join(dir, 'charts/kconmon/values.schema.json'));
      assert.deepEqual(await staleFiles(dir), [
        'charts/kconmon/files/kconmon.json is stale: it differs from what npm run generate makes from deploy/grafana/kconmon.json (edit the source, then run npm run generate)',
        'charts/kconmon/files/alerts.yaml is stale: it differs from what npm run generate makes from deploy/prometheus/alerts.yaml (edit the source, then run npm run generate)',
        'charts/kconmon/values.schema.json is missing: run npm run generate (it is generated from scripts/generate/chart-values.base.schema.json, src/config and charts/kconmon/values.yaml)',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
