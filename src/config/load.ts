// Reads and validates the agent's YAML configuration file.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { agentConfigSchema, type AgentConfig } from './schema.ts';
import { ConfigError, formatIssues } from './format-issues.ts';

/** Validates an already-parsed document; `source` names it in error messages. */
export function parseAgentConfig(document: unknown, source: string): AgentConfig {
  const result = agentConfigSchema.safeParse(document ?? {});
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}

/** Parses YAML text (JSON is YAML too) into a document, with the line of any syntax error. */
export function parseYamlDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ConfigError(source, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
}

export async function loadAgentConfig(path: string | undefined): Promise<AgentConfig> {
  if (path === undefined) return parseAgentConfig({}, 'default configuration');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseAgentConfig(parseYamlDocument(text, path), path);
}
