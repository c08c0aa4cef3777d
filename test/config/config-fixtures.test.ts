// Tests the agent configuration loader (src/config/load.ts, schema.ts, format-issues.ts) against the fixture files:
// every test/fixtures/config/bad/*.yaml must be rejected with exactly the `# expect:` lines written at its top, every
// test/fixtures/config/good/*.yaml must load, the defaults must be the original kconmon's, 0/false must be kept, and
// the bad fixtures must cover every field and rule the schema has (checked against the schema itself).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { loadAgentConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/validation/format-issues.ts';
import { agentConfigSchema, resolveDnsTargets } from '../../src/config/schema.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'config');
const BAD = join(FIXTURES, 'bad');
const GOOD = join(FIXTURES, 'good');

interface Fixture {
  readonly name: string;
  readonly path: string;
  readonly text: string;
  /** The `# expect: …` lines of the leading comment block. */
  readonly expects: string[];
  /** `# complete:` marks a good fixture that sets every option, so the loaded config must equal the document. */
  readonly complete: boolean;
}

function readFixtures(dir: string): Fixture[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const text = readFileSync(path, 'utf8');
      const header: string[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('#')) break;
        header.push(line);
      }
      return {
        name,
        path,
        text,
        expects: header.filter((line) => line.startsWith('# expect: ')).map((line) => line.slice('# expect: '.length)),
        complete: header.some((line) => line.startsWith('# complete:')),
      };
    });
}

const bad = readFixtures(BAD);
const good = readFixtures(GOOD);

async function problemsOf(path: string): Promise<readonly string[]> {
  try {
    await loadAgentConfig(path);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`${path} loaded, but should have been rejected`);
}

const sorted = (lines: readonly string[]) => [...lines].sort();

describe('bad configuration fixtures', () => {
  it('exist, each with at least one `# expect:` line and a description', () => {
    assert.ok(bad.length >= 100, `only ${bad.length} bad fixtures`);
    for (const fixture of bad) {
      assert.ok(fixture.expects.length > 0, `${fixture.name} has no "# expect:" line`);
      assert.match(fixture.text, /^# Tests: /m, `${fixture.name} has no "# Tests:" description`);
    }
  });

  for (const fixture of bad) {
    it(`${fixture.name} is rejected with: ${fixture.expects.join(' | ')}`, async () => {
      assert.deepEqual(sorted(await problemsOf(fixture.path)), sorted(fixture.expects));
    });
  }

  it('the ConfigError message names the file and lists every problem, indented', async () => {
    const fixture = bad.find((f) => f.name === 'several-problems.yaml');
    assert.ok(fixture);
    await assert.rejects(loadAgentConfig(fixture.path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const [first, ...rest] = error.message.split('\n');
      assert.equal(first, `${fixture.path}: invalid configuration`);
      assert.deepEqual(sorted(rest), sorted(fixture.expects.map((line) => `  ${line}`)));
      return true;
    });
  });

  it('a file that cannot be read is a ConfigError naming the errno code', async () => {
    const missing = join(FIXTURES, 'does-not-exist.yaml');
    assert.deepEqual(await problemsOf(missing), ['cannot read: ENOENT']);
  });
});

describe('good configuration fixtures', () => {
  it('exist and carry no `# expect:` lines', () => {
    assert.ok(good.length >= 8, `only ${good.length} good fixtures`);
    for (const fixture of good) assert.deepEqual(fixture.expects, [], `${fixture.name} is in good/ but expects problems`);
  });

  for (const fixture of good) {
    it(`${fixture.name} loads${fixture.complete ? ' to exactly the values written' : ''}`, async () => {
      const config = await loadAgentConfig(fixture.path);
      if (fixture.complete) assert.deepEqual(config, parseYaml(fixture.text));
    });
  }
});

describe('defaults', () => {
  const load = (name: string) => loadAgentConfig(join(GOOD, name));

  it("equal the original kconmon's when only discovery is given", async () => {
    assert.deepEqual(await load('minimal.yaml'), {
      port: 8080,
      listenAddress: '0.0.0.0',
      metricsPrefix: 'kconmon',
      logLevel: 'info',
      shutdownGracePeriod: 5000,
      stallThreshold: 10,
      jitter: { min: 50, max: 500 },
      udp: { enabled: true, interval: 5000, timeout: 250, packets: 5, packetSize: 4, packetSpacing: 50, echoFrom: 'peers' },
      tcp: { enabled: true, interval: 5000, timeout: 1000 },
      dns: { enabled: true, interval: 5000, timeout: 1000, targets: ['kubernetes.default.svc.cluster.local'] },
      // Not in the original (it probed a full mesh); a cluster of up to 19 nodes still is one.
      probing: { maxPeers: 18 },
      discovery: { peersFile: 'peers.yaml', newPeerDelay: 1000 },
    });
  });

  it('the default DNS target resolves to an A query of kubernetes.default.svc.cluster.local labelled by its host', async () => {
    assert.deepEqual(resolveDnsTargets(await load('minimal.yaml')), [
      { host: 'kubernetes.default.svc.cluster.local', label: 'kubernetes.default.svc.cluster.local', type: 'A', resolvers: undefined },
    ]);
  });

  it("the original chart's values load to the same settings", async () => {
    const config = await load('original-chart.yaml');
    assert.equal(config.port, 8080);
    assert.equal(config.metricsPrefix, 'kconmon');
    assert.deepEqual(config.tcp, { enabled: true, interval: 5000, timeout: 1000 });
    assert.deepEqual(config.udp, { enabled: true, interval: 5000, timeout: 250, packets: 5, packetSize: 4, packetSpacing: 50, echoFrom: 'peers' });
    assert.deepEqual(config.dns.targets, ['www.google.com', 'kubernetes.default.svc.cluster.local']);
    assert.equal(config.dns.interval, 5000);
  });

  it('0 and false are kept, not replaced by the defaults', async () => {
    const config = await load('zeros-and-false.yaml');
    assert.equal(config.shutdownGracePeriod, 0);
    assert.deepEqual(config.jitter, { min: 0, max: 0 });
    assert.equal(config.udp.enabled, false);
    assert.equal(config.udp.packetSpacing, 0);
    assert.equal(config.tcp.enabled, false);
    assert.equal(config.dns.enabled, false);
    assert.equal(config.discovery.newPeerDelay, 0);
  });

  it('a partial udp section keeps the other udp defaults', async () => {
    assert.deepEqual((await load('partial-udp.yaml')).udp, {
      enabled: true,
      interval: 5000,
      timeout: 250,
      packets: 3,
      packetSize: 4,
      packetSpacing: 50,
      echoFrom: 'peers',
    });
  });

  it('controller discovery gets the default reconnect back-off (and new-peer delay)', async () => {
    assert.deepEqual((await load('controller.yaml')).discovery, {
      newPeerDelay: 1000,
      controller: { urls: ['http://kconmon-controller.kconmon.svc:8080'], reconnectMin: 250, reconnectMax: 10_000 },
    });
  });

  it('DNS target objects get type A by default and their host as label', async () => {
    assert.deepEqual(resolveDnsTargets(await load('dns-targets.yaml')).slice(0, 3), [
      { host: 'kubernetes.default.svc.cluster.local', label: 'kubernetes.default.svc.cluster.local', type: 'A', resolvers: undefined },
      { host: 'example.com', label: 'example.com', type: 'A', resolvers: undefined },
      { host: 'example.com', label: 'example.com_v6', type: 'AAAA', resolvers: undefined },
    ]);
  });
});

// ---- Coverage: the bad fixtures must exercise every field of the schema (so a new option cannot go untested). ----

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: string[];
  minimum?: number;
  maximum?: number;
}

interface Field {
  /** Dotted path with `[]` for any array index, e.g. `dns.targets[].type`; '' for the top level. */
  readonly path: string;
  readonly schema: JsonSchema;
}

function fields(schema: JsonSchema, path = ''): Field[] {
  // A union (a dns target: host name or object) contributes each branch at the same path.
  if (schema.anyOf) return schema.anyOf.flatMap((branch) => fields(branch, path));
  const out: Field[] = [{ path, schema }];
  for (const [key, child] of Object.entries(schema.properties ?? {})) out.push(...fields(child, path ? `${path}.${key}` : key));
  if (schema.items) out.push(...fields(schema.items, `${path}[]`));
  return out;
}

describe('bad fixtures cover every rule of the schema', () => {
  const all = fields(z.toJSONSchema(agentConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
  // Expected lines with array indices generalised: `dns.targets[1].type: …` → `dns.targets[].type: …`.
  const expected = bad.flatMap((fixture) => fixture.expects).map((line) => line.replace(/\[\d+\]/g, '[]'));
  const has = (line: string) => expected.includes(line);
  const named = (path: string) => expected.some((line) => line.startsWith(`${path}: `) || line.startsWith(`${path}[]: `) || line.startsWith(`${path}.`));

  it('the schema walk finds the fields (guards the walk itself)', () => {
    const paths = all.map((field) => field.path);
    for (const path of ['port', 'udp.packets', 'dns.targets[].type', 'dns.targets[].resolvers', 'discovery.controller.reconnectMax']) {
      assert.ok(paths.includes(path), `schema walk missed ${path}`);
    }
  });

  it('every field is named by at least one expected problem', () => {
    const missing = all.filter((field) => field.path !== '' && !named(field.path)).map((field) => field.path);
    assert.deepEqual([...new Set(missing)], []);
  });

  it('every bounded integer has a fixture below its minimum and one above its maximum', () => {
    const missing: string[] = [];
    for (const { path, schema } of all) {
      if (schema.type !== 'integer') continue;
      if (!has(`${path}: must be ≥ ${schema.minimum}`)) missing.push(`${path}: must be ≥ ${schema.minimum}`);
      if (!has(`${path}: must be ≤ ${schema.maximum}`)) missing.push(`${path}: must be ≤ ${schema.maximum}`);
    }
    assert.deepEqual(missing, []);
  });

  it('every section with integers has a non-integer and a wrong-type fixture', () => {
    const sections = new Map<string, string[]>();
    for (const { path, schema } of all) {
      if (schema.type !== 'integer') continue;
      const section = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
      sections.set(section, [...(sections.get(section) ?? []), path]);
    }
    assert.ok(sections.size >= 6);
    for (const [section, paths] of sections) {
      assert.ok(
        paths.some((path) => has(`${path}: must be an integer`)),
        `no non-integer fixture in section "${section}"`,
      );
      assert.ok(
        paths.some((path) => has(`${path}: must be a number`)),
        `no wrong-type fixture in section "${section}"`,
      );
    }
  });

  it('every boolean has a wrong-type fixture', () => {
    const missing = all.filter((f) => f.schema.type === 'boolean' && !has(`${f.path}: must be true or false`)).map((f) => f.path);
    assert.deepEqual(missing, []);
  });

  it('every enum has a fixture whose message lists all its values', () => {
    for (const { path, schema } of all) {
      if (!schema.enum) continue;
      const lines = expected.filter((line) => line.startsWith(`${path}: must be `));
      assert.ok(
        lines.some((line) => schema.enum!.every((value) => line.includes(value))),
        `no fixture for ${path} listing ${schema.enum.join(', ')}`,
      );
    }
  });

  it('every strict object (top level, each section, a dns target) has an unknown-key fixture', () => {
    for (const { path, schema } of all) {
      if (schema.type !== 'object' || schema.additionalProperties !== false) continue;
      const pattern = new RegExp(`^${path ? `${path.replace(/[.[\]]/g, '\\$&')}\\.` : ''}[A-Za-z_]+: unknown key$`);
      assert.ok(
        expected.some((line) => pattern.test(line)),
        `no unknown-key fixture for "${path || '(top level)'}"`,
      );
    }
  });

  it('every section has a not-a-mapping fixture', () => {
    for (const { path, schema } of all) {
      if (schema.type !== 'object' || path.includes('[]')) continue;
      assert.ok(has(`${path || '(top level)'}: must be an object`), `no not-a-mapping fixture for "${path || '(top level)'}"`);
    }
  });
});
