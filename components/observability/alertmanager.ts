/**
 * Alertmanager's configuration: critical alerts page, warnings go to chat, a critical
 * silences the warning of the same alert in the same namespace. The receivers' URLs come
 * from secret config; without them the receivers exist but send nothing (dev).
 */
import { stringify } from "yaml";

export interface ReceiverUrls {
  paging?: string;
  chat?: string;
}

export const PAGING_RECEIVER = "paging";
export const CHAT_RECEIVER = "chat";
/** Where always-firing heartbeat alerts go: nowhere. */
export const NULL_RECEIVER = "null";

export function alertmanagerConfig(urls: ReceiverUrls, chatChannel: string): Record<string, unknown> {
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: CHAT_RECEIVER,
      group_by: ["alertname", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        { receiver: NULL_RECEIVER, matchers: ['alertname =~ "Watchdog|InfoInhibitor"'] },
        { receiver: PAGING_RECEIVER, matchers: ['severity = "critical"'], repeat_interval: "1h" },
        { receiver: CHAT_RECEIVER, matchers: ['severity = "warning"'] },
      ],
    },
    receivers: [
      { name: NULL_RECEIVER },
      {
        name: PAGING_RECEIVER,
        ...(urls.paging ? { webhook_configs: [{ url: urls.paging, send_resolved: true }] } : {}),
      },
      {
        name: CHAT_RECEIVER,
        ...(urls.chat
          ? {
              slack_configs: [
                {
                  api_url: urls.chat,
                  channel: chatChannel,
                  send_resolved: true,
                  title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})",
                  text: "{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\n{{ .Annotations.runbook_url }}\n{{ end }}",
                },
              ],
            }
          : {}),
      },
    ],
    inhibit_rules: [
      {
        source_matchers: ['severity = "critical"'],
        target_matchers: ['severity = "warning"'],
        equal: ["alertname", "namespace"],
      },
    ],
  };
}

/** The configuration file, as Alertmanager reads it from its Secret. */
export function alertmanagerYaml(urls: ReceiverUrls, chatChannel: string): string {
  return stringify(alertmanagerConfig(urls, chatChannel));
}
