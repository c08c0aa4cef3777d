// `kconmon check-config FILE`: validate a configuration (and the peers file it names) without starting anything.
import { dirname, resolve } from 'node:path';
import { loadAgentConfig } from '../config/load.ts';
import { readPeersFile } from '../discovery/peers-file.ts';

/** Returns the lines to print; throws ConfigError / PeersFileError with one line per problem. */
export async function checkConfig(configPath: string, peersPath: string | undefined): Promise<string[]> {
  const config = await loadAgentConfig(configPath);
  const lines = [`${configPath}: ok`];
  const peersFile = peersPath ?? (config.discovery.peersFile !== undefined ? resolve(dirname(configPath), config.discovery.peersFile) : undefined);
  if (peersFile !== undefined) {
    const peers = await readPeersFile(peersFile);
    lines.push(`${peersFile}: ok (${peers.length} peers)`);
  }
  return lines;
}
