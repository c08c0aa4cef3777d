// What the miniature cluster needs from the machine, as one human-readable reason (or undefined when all is there):
// root and iproute2 (network namespaces), nftables, unbound, Prometheus, kube-apiserver + etcd, helm (chart RBAC).
import { existsSync } from 'node:fs';
import { netnsUnavailable } from '../harness/netns.ts';
import { prometheusUnavailable } from '../harness/prometheus.ts';
import { findKubeBinaries } from '../harness/kube-cluster.ts';
import { helmMissing } from '../harness/helm.ts';
import { UNBOUND_BIN } from './dns-server.ts';

export function clusterUnavailable(): string | undefined {
  const reasons = [
    netnsUnavailable(),
    existsSync('/usr/sbin/nft') ? undefined : 'nftables (`nft`) is not installed (Debian package nftables)',
    existsSync(UNBOUND_BIN) ? undefined : `unbound is not installed (${UNBOUND_BIN}; Debian package unbound)`,
    prometheusUnavailable(),
    findKubeBinaries().reason,
    helmMissing,
  ].filter((reason): reason is string => reason !== undefined);
  return reasons.length > 0 ? `the e2e cluster cannot run here: ${reasons.join('; ')}` : undefined;
}
