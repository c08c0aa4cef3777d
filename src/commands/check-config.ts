// `kconmon check-config FILE`: validate an agent configuration (and the peers file it names), or with --controller a
// controller configuration, without starting anything.
import { dirname, resolve } from 'node:path';
import { loadAgentConfig, loadControllerConfig } from '../config/load.ts';
import { readPeersFile } from '../discovery/peers-file.ts';

/** Returns the lines to print; throws ConfigError / PeersFileError with one line per problem. */
export async function checkConfig(configPath: string, peersPath: string | undefined, kind: 'agent' | 'controller' = 'agent'): Promise<string[]> {
  const lines = [`${configPath}: ok`];
  let listed: string | undefined;
  if (kind === 'controller') {
    const config = await loadControllerConfig(configPath);
    listed = 'peersFile' in config.source ? config.source.peersFile : undefined;
  } else {
    listed = (await loadAgentConfig(configPath)).discovery.peersFile;
  }
  const peersFile = peersPath ?? (listed !== undefined ? resolve(dirname(configPath), listed) : undefined);
  if (peersFile !== undefined) {
    const peers = await readPeersFile(peersFile);
    lines.push(`${peersFile}: ok (${peers.length} peers)`);
  }
  return lines;
}
