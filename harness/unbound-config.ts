// unbound's configuration for the DNS servers the tests and the e2e cluster run: in the foreground with no chroot, user
// switch, pid file or syslog, answering from its own local zones, forwarding the zones given to the servers given, and
// every other name to a closed port on loopback, so that it never queries anything beyond the machine.
export interface UnboundConfigOptions {
  /** The address and port it answers on. */
  readonly address: string;
  readonly port: number;
  /** Its working directory. */
  readonly dir: string;
  /** Where it logs ('': stderr). */
  readonly logFile: string;
  /** Client subnets allowed to query (every other address is refused). */
  readonly allow: readonly string[];
  /** `local-zone:` / `local-data:` lines of the `server:` clause, as unbound writes them. */
  readonly localZones: readonly string[];
  /** Zones forwarded to another server (`address@port`), before the catch-all. */
  readonly forwardZones?: readonly { readonly name: string; readonly to: string }[];
  /** A port nothing listens on in its network namespace's loopback: every other name is forwarded there and fails at once. */
  readonly closedPort: number;
}

export function unboundConfig(options: UnboundConfigOptions): string {
  const forwards = [...(options.forwardZones ?? []), { name: '.', to: `127.0.0.1@${options.closedPort}` }];
  return [
    'server:',
    `  interface: ${options.address}@${options.port}`,
    `  port: ${options.port}`,
    '  do-daemonize: no',
    '  chroot: ""',
    '  username: ""',
    `  directory: "${options.dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    `  logfile: "${options.logFile}"`,
    '  verbosity: 1',
    '  access-control: 0.0.0.0/0 refuse',
    ...options.allow.map((subnet) => `  access-control: ${subnet} allow`),
    '  module-config: "iterator"',
    '  do-not-query-localhost: no',
    '  do-ip6: no',
    '  num-threads: 1',
    ...options.localZones.map((line) => `  ${line}`),
    ...forwards.flatMap(({ name, to }) => ['forward-zone:', `  name: "${name}"`, `  forward-addr: ${to}`]),
    '',
  ].join('\n');
}
