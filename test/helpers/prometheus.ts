// Transitional re-export for test/cluster/real-node.test.ts only (owned by another change in flight): the Prometheus
// runner lives in harness/prometheus.ts. Delete this file once test/cluster imports it directly.
export { prometheusUnavailable, startPrometheus, type Prometheus } from '../../harness/prometheus.ts';
