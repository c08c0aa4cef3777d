// _validate.tpl repeats the agent's cross-field rules (JSON Schema cannot express them, src/config's zod schema
// enforces them at start-up): every bad-values fixture the chart rejects with a `config.*` rule message is rejected by
// the agent's own schema too, on the same field with the same message, so the two copies cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { ConfigError } from '../../src/validation/format-issues.ts';
import { parseAgentConfig } from '../../src/config/load.ts';
import { badFixtures, CHART_DIR, expectedMessages } from './helm.ts';

type Values = { [key: string]: unknown };

/** Helm's merge of a values file over the defaults: maps merge key by key, anything else replaces. */
function mergeValues(base: unknown, override: unknown): unknown {
  const isMap = (value: unknown): value is Values => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isMap(base) || !isMap(override)) return override;
  const merged: Values = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeValues(base[key], value);
  return merged;
}

/** Messages of _validate.tpl about the agent config itself (not the original chart's keys or Kubernetes-side rules). */
function agentRuleMessages(file: string): string[] {
  return expectedMessages(file).filter((message) => /^config\.[\w.[\]]+: (must|duplicate)/.test(message) && !message.includes('controller.tls'));
}

const defaults = (YAML.parse(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Values).config;
const fixtures = badFixtures().filter((file) => agentRuleMessages(file).length > 0);

describe('chart _validate.tpl and the agent schema agree on the cross-field rules', () => {
  it('covers the agent rules _validate.tpl repeats', () => {
    assert.deepEqual(fixtures.map((file) => path.basename(file)).sort(), [
      'dns-targets-empty.yaml',
      'duplicate-dns-labels.yaml',
      'jitter-inverted.yaml',
      'tcp-timeout-not-below-interval.yaml',
      'udp-rounds-overlap.yaml',
    ]);
  });

  for (const file of fixtures) {
    it(`the agent rejects the config of ${path.basename(file)} with the chart's message`, () => {
      const values = YAML.parse(readFileSync(file, 'utf8')) as Values;
      const config = mergeValues(defaults, values.config) as Values;
      // The chart fills in the controller URL; the rest is the config file the agent would read.
      const withUrl = mergeValues(config, { discovery: { controller: { urls: ['http://kconmon-controller:8080'] } } });
      let problems: readonly string[] = [];
      try {
        parseAgentConfig(withUrl, path.basename(file));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems = error.problems;
      }
      // The chart names fields from the values root (config.udp.interval), the agent from its file (udp.interval);
      // a fixture's expected line is the start of the message.
      for (const message of agentRuleMessages(file)) {
        const expected = message.replaceAll('config.', '');
        assert.ok(
          problems.some((problem) => problem.startsWith(expected)),
          `${message}\nagent said: ${problems.join(' | ')}`,
        );
      }
    });
  }
});
