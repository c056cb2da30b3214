/**
 * deploy/monitoring/ as the tests read it: the Grafana dashboard, the Prometheus rules, and the metric names their
 * PromQL expressions use (so a test can check each one against GET /metrics of the running service).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const MONITORING_DIR = path.resolve(__dirname, '../../deploy/monitoring');
export const DASHBOARD_FILE = path.join(MONITORING_DIR, 'grafana-dashboard.json');
export const RULES_FILE = path.join(MONITORING_DIR, 'alerts.rules.yml');
export const RULES_TEST_FILE = path.join(MONITORING_DIR, 'alerts.test.yml');
export const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
}

export function readDashboard(): { uid: string; title: string; panels: DashboardPanel[] } {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { uid: string; title: string; panels: DashboardPanel[] };
}

export function dashboardExpressions(): string[] {
  return readDashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

export function ruleExpressions(): string[] {
  const rules = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  return rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

/** The metric names in PromQL expressions (ours are `soar_*`, the SDK's `temporal_*`), as the samples name them. */
export function metricNamesIn(expressions: string[]): string[] {
  const names = new Set<string>();
  for (const expr of expressions) for (const m of expr.matchAll(/\b(?:soar|temporal)_[a-z0-9_]+\b/g)) names.add(m[0]);
  return [...names].sort();
}
