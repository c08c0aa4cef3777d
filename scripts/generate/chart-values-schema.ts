// The chart's values.schema.json: the hand-written chart-only part (chart-values.base.schema.json) with `config` and
// `controller.config` generated from the agent's and controller's zod schemas (src/config), adjusted for how the chart
// uses those files. Every adjustment names the field it touches and fails the generator if that field is gone.
import { z } from 'zod';
import { agentConfigSchema } from '../../src/config/schema.ts';
import { controllerConfigSchema } from '../../src/config/controller-schema.ts';

/** A JSON Schema object, loosely typed: the generator walks and edits it. */
export type JsonSchema = { [keyword: string]: unknown };

// Rules zod checks with a refinement, which JSON Schema export drops: the chart approximates them with a pattern
// (helm validates formats loosely, so `format: uri` is replaced too). The agent still applies the exact rule.
const IP_ADDRESS_PATTERN = '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$';
const RESOLVER_PATTERN = '^([0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[0-9.]+:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5})$';
const HTTP_URL_PATTERN = '^https?://[^\\s/]+';

const ORIGINAL_KEY = "The original kconmon chart's key: rejected with the name of its replacement (see docs/deployment.md).";

/** The controller configuration keys the chart offers under controller.config, and where each is in the controller schema. */
const CONTROLLER_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['port', 'port'],
  ['listenAddress', 'listenAddress'],
  ['logLevel', 'logLevel'],
  ['heartbeatInterval', 'heartbeatInterval'],
  ['shutdownGracePeriod', 'shutdownGracePeriod'],
  ['zoneLabels', 'source.kubernetes.zoneLabels'],
  ['restartBackoff', 'source.kubernetes.restartBackoff'],
  ['maxAgentStreams', 'maxAgentStreams'],
  ['events', 'events'],
];

/** The zod schema's input (what a user writes) as draft-07 JSON Schema. */
function fromZod(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-07', unrepresentable: 'throw' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** The schema of the property at a dotted path of object properties; throws naming the path if it is not there. */
function property(schema: JsonSchema, dotted: string): JsonSchema {
  let current = schema;
  for (const key of dotted.split('.')) {
    const next = (current.properties as Record<string, JsonSchema> | undefined)?.[key];
    if (next === undefined) throw new Error(`chart values schema: ${dotted} is not in the source schema (renamed or removed in src/config?)`);
    current = next;
  }
  return current;
}

function removeProperty(schema: JsonSchema, dotted: string): void {
  const parent = dotted.includes('.') ? property(schema, dotted.slice(0, dotted.lastIndexOf('.'))) : schema;
  const key = dotted.slice(dotted.lastIndexOf('.') + 1);
  property(schema, dotted);
  delete (parent.properties as Record<string, JsonSchema>)[key];
}

/** The agent configuration as the chart accepts it under `config`. */
function chartAgentConfig(description: unknown): JsonSchema {
  const config = fromZod(agentConfigSchema);
  // The chart always uses controller discovery, and sets the token and CA files to the Secrets it mounts.
  removeProperty(config, 'discovery.peersFile');
  removeProperty(config, 'discovery.controller.tokenFile');
  removeProperty(config, 'discovery.controller.caFile');
  // An empty URL list means "the controller Service" (the chart fills it in).
  const urls = property(config, 'discovery.controller.urls');
  delete urls.minItems;
  urls.items = { type: 'string', pattern: HTTP_URL_PATTERN };
  // An empty report URL list means "the headless Service over the controller pods" (or `urls` when those are set).
  const reportUrls = property(config, 'discovery.controller.reportUrls');
  delete reportUrls.minItems;
  reportUrls.items = { type: 'string', pattern: HTTP_URL_PATTERN };
  Object.assign(property(config, 'listenAddress'), { pattern: IP_ADDRESS_PATTERN, description: 'An IPv4 or IPv6 address.' });
  const targetObject = (property(config, 'dns.targets').items as { anyOf: JsonSchema[] }).anyOf.find((option) => option.type === 'object');
  if (targetObject === undefined) throw new Error('chart values schema: dns.targets has no object form (changed in src/config?)');
  Object.assign(property(targetObject, 'resolvers').items as JsonSchema, { pattern: RESOLVER_PATTERN });
  // The original chart's keys are accepted by the schema so that _validate.tpl can name their replacement.
  (config.properties as Record<string, JsonSchema>).nodeAntiAffinity = { description: ORIGINAL_KEY };
  (config.properties as Record<string, JsonSchema>).failureDomainLabel = { description: ORIGINAL_KEY };
  (property(config, 'dns').properties as Record<string, JsonSchema>).hosts = { description: ORIGINAL_KEY };
  return { ...config, description };
}

/** The controller configuration keys the chart offers under `controller.config`. */
function chartControllerConfig(description: unknown): JsonSchema {
  const controller = fromZod(controllerConfigSchema);
  const properties: Record<string, JsonSchema> = {};
  for (const [key, source] of CONTROLLER_KEYS) properties[key] = property(controller, source);
  Object.assign(properties.listenAddress as JsonSchema, { pattern: IP_ADDRESS_PATTERN, description: 'An IPv4 or IPv6 address.' });
  return { type: 'object', properties, additionalProperties: false, description };
}

/** Removes `default` (values.yaml holds the chart's defaults) everywhere in a schema. */
function withoutDefaults(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDefaults);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([keyword]) => keyword !== 'default')
      .map(([keyword, value]) => [keyword, keyword === 'properties' ? mapValues(value as object, withoutDefaults) : withoutDefaults(value)]),
  );
}

function mapValues(object: object, map: (value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}

/**
 * Marks every key values.yaml sets as required, object by object (so `--set key=null`, which deletes a key, is a
 * schema error rather than a silently different default); keeps the source's own required keys.
 */
function requireDefaults(schema: JsonSchema, values: unknown): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  if (properties === undefined || values === null || typeof values !== 'object' || Array.isArray(values)) return schema;
  const set = Object.keys(values).filter((key) => key in properties);
  const required = [...new Set([...((schema.required as string[] | undefined) ?? []), ...set])];
  const nested = mapValues(properties, (value) => value);
  for (const key of set) nested[key] = requireDefaults(properties[key] as JsonSchema, (values as Record<string, unknown>)[key]);
  const result: JsonSchema = { ...schema, properties: nested };
  if (required.length > 0) result.required = required;
  return result;
}

/** values.schema.json from its hand-written base and the chart's default values (values.yaml, parsed). */
export function chartValuesSchema(base: JsonSchema, values: { config?: unknown; controller?: { config?: unknown } }): JsonSchema {
  const schema = structuredClone(base);
  schema.$comment = 'Generated by npm run generate from scripts/generate/chart-values.base.schema.json and src/config: do not edit.';
  const top = schema.properties as Record<string, JsonSchema>;
  const agent = withoutDefaults(chartAgentConfig(top.config?.description)) as JsonSchema;
  top.config = requireDefaults(agent, values.config);
  // A key values.yaml offers under controller.config but this generator does not map would be silently unvalidated.
  const unmapped = Object.keys(values.controller?.config ?? {}).filter((key) => !CONTROLLER_KEYS.some(([name]) => name === key));
  if (unmapped.length > 0) throw new Error(`values.yaml controller.config.${unmapped[0]}: not in CONTROLLER_KEYS (scripts/generate/chart-values-schema.ts)`);
  const controller = property(schema, 'controller');
  const controllerConfig = withoutDefaults(chartControllerConfig(property(controller, 'config').description)) as JsonSchema;
  (controller.properties as Record<string, JsonSchema>).config = requireDefaults(controllerConfig, values.controller?.config);
  return schema;
}
