// `node e2e/fault.ts [--state FILE] loss <node> <percent> | partition <zone> | blackhole <node> | egress <node> |
// oneway <from> <to> | heal | show`:
// fault injection into a cluster started by `npm run e2e:up`, with the same nftables rules the tests use
// (e2e/faults.ts). The host address 198.18.0.1 stays reachable, so Prometheus keeps scraping every node.
import { applyInNamespace, blackholeScript, egressScript, healScript, listFault, lossScript, oneWayScript, partitionScript } from './faults.ts';
import { DEFAULT_STATE_FILE, readState } from './state.ts';

/** The agent's port (its UDP echo and HTTP server), from the metrics URL the state file lists. */
function agentPortOf(node: { readonly metrics: string }): number {
  return Number(new URL(node.metrics).port);
}

function main(): number {
  const args = process.argv.slice(2);
  const stateIndex = args.indexOf('--state');
  const stateFile = stateIndex === -1 ? DEFAULT_STATE_FILE : args[stateIndex + 1]!;
  if (stateIndex !== -1) args.splice(stateIndex, 2);
  const state = readState(stateFile);
  if (state?.status !== 'ready') {
    console.error(`no running cluster at ${stateFile}: start one with npm run e2e:up`);
    return 1;
  }
  const [command, target, amount] = args;
  const nodeNamed = (name: string | undefined) => {
    const node = state.nodes.find((candidate) => candidate.name === name);
    if (!node) throw new Error(`no node "${name}"; nodes: ${state.nodes.map((candidate) => candidate.name).join(', ')}`);
    return node;
  };
  switch (command) {
    case 'loss': {
      const node = nodeNamed(target);
      applyInNamespace(node.namespace, lossScript(Number(amount)));
      console.log(`${node.name} now drops ${amount} % of the packets it receives (except from the host)`);
      return 0;
    }
    case 'partition': {
      const inside = state.nodes.filter((node) => node.zone === target);
      if (inside.length === 0) throw new Error(`no node in zone "${target}"`);
      const outside = state.nodes.filter((node) => node.zone !== target).map((node) => node.ip);
      for (const node of inside) applyInNamespace(node.namespace, partitionScript(outside));
      console.log(`${target} (${inside.map((node) => node.name).join(', ')}) is cut off from the other zones; the host stays reachable`);
      return 0;
    }
    case 'blackhole': {
      const node = nodeNamed(target);
      applyInNamespace(node.namespace, blackholeScript());
      console.log(`${node.name} drops everything in and out except to/from the host 198.18.0.1 (so Prometheus still scrapes it)`);
      return 0;
    }
    case 'egress': {
      const node = nodeNamed(target);
      applyInNamespace(node.namespace, egressScript(agentPortOf(node)));
      console.log(`${node.name} sends nothing of its own (probes, DNS) except to the host, and still answers the others' probes`);
      return 0;
    }
    case 'oneway': {
      const [from, to] = [nodeNamed(target), nodeNamed(amount)];
      applyInNamespace(from.namespace, oneWayScript(to.ip, agentPortOf(from)));
      console.log(`${from.name}'s probes to ${to.name} now fail; ${to.name}'s probes to ${from.name} still pass`);
      return 0;
    }
    case 'heal':
      for (const node of state.nodes) applyInNamespace(node.namespace, healScript());
      console.log('every fault removed');
      return 0;
    case 'show':
      for (const node of state.nodes) console.log(`${node.name}: ${listFault(node.namespace).trim() || 'no fault'}`);
      return 0;
    default:
      console.error(
        'usage: node e2e/fault.ts [--state FILE] loss <node> <percent> | partition <zone> | blackhole <node> | egress <node> |' +
          ' oneway <from> <to> | heal | show',
      );
      return 2;
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
