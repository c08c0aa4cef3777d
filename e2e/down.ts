// `npm run e2e:down` (node e2e/down.ts [--state FILE]): tears down the miniature cluster described by a state file
// (default /tmp/kconmon-e2e/state.json). Asks its owner (the `up` supervisor or a test run) to stop it; if the owner
// is gone or does not finish within 60 s, removes everything the state lists itself: processes (checked by command
// line, never by name), namespaces, links, the bridge and directories.
import { existsSync } from 'node:fs';
import { DEFAULT_STATE_FILE, forceTeardown, ownerAlive, readState } from './state.ts';
import { linkExists } from './network.ts';
import { setTimeout as sleep } from 'node:timers/promises';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const index = args.indexOf('--state');
  const stateFile = index === -1 ? DEFAULT_STATE_FILE : args[index + 1]!;
  const state = readState(stateFile);
  if (!state) {
    console.log(`no cluster state at ${stateFile}: nothing to tear down`);
    if (linkExists('kce2e-br')) console.log('note: bridge kce2e-br exists without a state file; remove it with: ip link del kce2e-br');
    return 0;
  }
  if (ownerAlive(state)) {
    console.log(`asking the cluster's owner (pid ${state.owner.pid}) to stop it…`);
    process.kill(state.owner.pid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && ownerAlive(state)) await sleep(250);
    if (!existsSync(stateFile)) {
      console.log('cluster stopped');
      return 0;
    }
    if (ownerAlive(state)) console.log('the owner did not finish within 60 s; removing what is left');
  } else {
    console.log(`the cluster's owner (pid ${state.owner.pid}) is gone; removing what it left`);
  }
  for (const line of await forceTeardown(stateFile, state)) console.log(`  ${line}`);
  if (ownerAlive(state)) process.kill(state.owner.pid, 'SIGKILL');
  console.log('cluster removed');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
