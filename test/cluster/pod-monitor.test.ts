// The PodMonitor → scrape config translation the real-node suite runs Prometheus with (pod-monitor.ts), on the chart's
// rendered PodMonitors: the operator's selector and port rules for the default one, and a clear refusal of what it does
// not translate (the HTTPS controller monitor's tlsConfig) instead of a silently different scrape config.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChart, helmMissing } from '../chart/helm.ts';
import { skipOption } from '../harness/require.ts';
import { scrapeConfigsFromPodMonitor, type PodMonitorManifest } from './pod-monitor.ts';

const ACCESS = { apiServer: 'https://198.18.64.1:6443', caFile: '/run/ca.crt', tokenFile: '/run/token' };

function podMonitors(setJson: string[]): PodMonitorManifest[] {
  return renderChart({ release: 'kconmon', namespace: 'kconmon', setJson: ['prometheus.podMonitor.enabled=true', ...setJson] }).filter(
    (manifest) => manifest.kind === 'PodMonitor',
  ) as unknown as PodMonitorManifest[];
}

describe("the chart's PodMonitor as the Prometheus Operator's scrape config", { skip: skipOption(helmMissing) }, () => {
  it('keeps running pods of the release labelled agent or controller, on the http port, labelled like the operator does', () => {
    const [monitor] = podMonitors([]);
    assert.ok(monitor);
    const [job] = scrapeConfigsFromPodMonitor(monitor, ACCESS) as [Record<string, unknown>];
    assert.equal(job.job_name, 'podMonitor/kconmon/kconmon/0');
    assert.deepEqual(job.kubernetes_sd_configs, [
      {
        role: 'pod',
        api_server: ACCESS.apiServer,
        tls_config: { ca_file: ACCESS.caFile },
        authorization: { type: 'Bearer', credentials_file: ACCESS.tokenFile },
        namespaces: { names: ['kconmon'] },
      },
    ]);
    const rules = job.relabel_configs as Record<string, unknown>[];
    assert.deepEqual(
      rules.filter((rule) => rule.action === 'keep' || rule.action === 'drop'),
      [
        { action: 'drop', source_labels: ['__meta_kubernetes_pod_phase'], regex: '(Failed|Succeeded)' },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_label_app', '__meta_kubernetes_pod_labelpresent_app'], regex: '(kconmon);true' },
        {
          action: 'keep',
          source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_instance', '__meta_kubernetes_pod_labelpresent_app_kubernetes_io_instance'],
          regex: '(kconmon);true',
        },
        {
          action: 'keep',
          source_labels: ['__meta_kubernetes_pod_label_component', '__meta_kubernetes_pod_labelpresent_component'],
          regex: '(agent|controller);true',
        },
        { action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http' },
      ],
    );
    assert.ok(rules.some((rule) => rule.target_label === 'job' && rule.replacement === 'kconmon/kconmon'));
    assert.equal(job.honor_labels, true);
    assert.equal(job.metrics_path, '/metrics');
  });

  it('refuses what it does not translate, naming it: the HTTPS controller monitor and its tlsConfig', () => {
    const monitors = podMonitors(['controller.tls.enabled=true']);
    assert.equal(monitors.length, 2);
    const controller = monitors.find((monitor) => monitor.metadata.name.endsWith('controller'));
    assert.ok(controller);
    assert.throws(() => scrapeConfigsFromPodMonitor(controller, ACCESS), /endpoint 0: .*tlsConfig.* not translated/);
  });
});
