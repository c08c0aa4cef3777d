// Reads and validates YAML configuration files (the agent's and the controller's) against their schemas.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { agentConfigSchema, type AgentConfig } from './schema.ts';
import { controllerConfigSchema, type ControllerConfig } from './controller-schema.ts';
import { ConfigError, formatIssues } from '../validation/format-issues.ts';

/** Validates an already-parsed document; `source` names it in error messages. */
function parseWithSchema<S extends z.ZodType>(schema: S, document: unknown, source: string): z.output<S> {
  const result = schema.safeParse(document ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}

export function parseAgentConfig(document: unknown, source: string): AgentConfig {
  return parseWithSchema(agentConfigSchema, document, source);
}

export function parseControllerConfig(document: unknown, source: string): ControllerConfig {
  return parseWithSchema(controllerConfigSchema, document, source);
}

/** Parses YAML text (JSON is YAML too) into a document, with the line of any syntax error. */
function parseYamlDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
}

async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseYamlDocument(text, path);
}

export async function loadAgentConfig(path: string | undefined): Promise<AgentConfig> {
  if (path === undefined) return parseAgentConfig({}, 'default configuration');
  return parseAgentConfig(await readDocument(path), path);
}

export async function loadControllerConfig(path: string | undefined): Promise<ControllerConfig> {
  if (path === undefined) return parseControllerConfig({}, 'default configuration');
  return parseControllerConfig(await readDocument(path), path);
}
