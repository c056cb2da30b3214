/**
 * Fixtures for tests and scripts: a data folder for the file connectors, a configuration, and alerts. Written per
 * test into a fresh temporary folder so tests never depend on the shipped sample data or on each other. Here rather
 * than in test/helpers so scripts (record:histories, bench:playbook) import nothing from test/; test/helpers
 * re-exports it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../src/config';
import type { NormalizedAlert } from '../../src/contracts/alert';

export const MiB = 1024 * 1024;

/** The payload encryption key every test configuration and test client share (32 bytes, base64). */
export const TEST_PAYLOAD_KEY = { id: 'test-key-1', key: Buffer.alloc(32, 7).toString('base64') };

/** 30 days around 20 MiB/day with a spread of a few MiB: mean 20 MiB, population sd 2 MiB. */
export const JDOE_DAILY = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 18 : 22) * MiB);

export const fixtureData = {
  'cloud-storage.yaml': {
    approvedDomains: ['acme.sharepoint.com', 'acme.box.com'],
    services: [
      { name: 'Dropbox', domains: ['dropbox.com', 'dropboxapi.com', 'dropboxusercontent.com'] },
      { name: 'Box', domains: ['box.com', 'boxcloud.com'] },
      { name: 'Microsoft OneDrive / SharePoint', domains: ['sharepoint.com', 'onedrive.live.com'] },
    ],
  },
  'hr-directory.yaml': {
    users: [
      {
        user: 'jdoe',
        displayName: 'Jane Doe',
        department: 'Finance',
        title: 'Financial Analyst',
        groups: ['finance'],
        employmentStatus: 'active',
        manager: 'mmanager',
        timezone: 'Europe/Berlin',
        cloudStorageAuthorized: true,
      },
      {
        user: 'bleaver',
        displayName: 'Bea Leaver',
        department: 'Sales',
        title: 'Account Executive',
        groups: ['sales'],
        employmentStatus: 'on-notice',
        manager: 'mmanager',
        timezone: 'Europe/London',
        cloudStorageAuthorized: true,
      },
    ],
  },
  'devices.yaml': {
    devices: [
      { host: 'LAPTOP-JD01', managed: true, owner: 'jdoe', cloudStorageAllowed: true },
      { host: 'LAPTOP-BL03', managed: true, owner: 'bleaver', cloudStorageAllowed: true },
    ],
  },
  'upload-baselines.yaml': {
    baselines: [
      { user: 'jdoe', dailyBytes: JDOE_DAILY },
      { user: 'bleaver', dailyBytes: JDOE_DAILY },
    ],
  },
  'policy-changes.yaml': {
    changes: [
      {
        id: 'CHG0000001',
        kind: 'pilot',
        title: 'Finance pilots Dropbox for auditors',
        approved: true,
        users: [],
        groups: ['finance'],
        domains: ['dropbox.com'],
        validFrom: '2026-12-01T00:00:00Z',
        validTo: '2026-12-31T00:00:00Z',
      },
    ],
  },
};

export type FixtureFile = keyof typeof fixtureData;

export function tempDir(prefix = 'soar-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes the fixture data folder, with some files replaced or left out. */
export function writeDataDir(overrides: Partial<Record<FixtureFile, unknown>> = {}, omit: FixtureFile[] = []): string {
  const dir = tempDir('soar-data-');
  for (const [file, content] of Object.entries({ ...fixtureData, ...overrides })) {
    if (omit.includes(file as FixtureFile)) continue;
    writeFileSync(path.join(dir, file), stringify(content), 'utf8');
  }
  return dir;
}

export interface TestConfigOptions {
  address?: string;
  namespace?: string;
  taskQueue?: string;
  dataDir?: string;
  stateDir?: string;
  approvalTimeout?: string;
  extra?: Record<string, unknown>;
}

export function rawTestConfig(options: TestConfigOptions = {}): Record<string, unknown> {
  return {
    temporal: {
      address: options.address ?? '127.0.0.1:7233',
      namespace: options.namespace ?? 'default',
      taskQueue: options.taskQueue ?? 'soar-test',
      devServer: { enabled: false },
      payloadCodec: { enabled: true, keys: [TEST_PAYLOAD_KEY] },
    },
    http: { host: '127.0.0.1', port: 0 },
    // Tests that assert which case an alert went to wait for the index's answer as long as recording may take;
    // the storm tests set the shipped default back.
    ingest: { answerWithin: '10s' },
    playbook: {
      approvalTimeout: options.approvalTimeout ?? '10m',
      approvers: [
        { id: 'alice', name: 'Alice (SOC lead)' },
        { id: 'bob', name: 'Bob (IR)' },
        { id: 'mmanager', name: "Maria (jdoe's manager)" },
        { id: 'jdoe', name: 'Jane (the subject)' },
      ],
      businessHours: {
        defaultTimezone: 'UTC',
        days: [1, 2, 3, 4, 5],
        start: '09:00',
        end: '18:00',
        holidays: [{ date: '2026-12-25', name: 'Christmas Day' }],
      },
    },
    enrichment: { dataDir: options.dataDir ?? writeDataDir() },
    dataDir: options.stateDir ?? tempDir('soar-state-'),
    log: { level: 'warn' },
    ...options.extra,
  };
}

export function testConfig(options: TestConfigOptions = {}): Config {
  return parseConfig(rawTestConfig(options), {});
}

let counter = 0;
/** A unique suffix per call within this process, for alert IDs, task queues and workflow IDs. */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Saturday 2026-11-28 02:14 in Berlin; 700 MiB to Dropbox: escalates (volume and off-hours). */
export function escalatingAlert(overrides: Partial<NormalizedAlert> = {}): NormalizedAlert {
  const body = {
    alertId: unique('esc'),
    user: 'jdoe',
    host: 'LAPTOP-JD01',
    srcIp: '10.20.30.40',
    destDomain: 'dropbox.com',
    bytesOut: 700 * MiB,
    eventTime: '2026-11-28T01:14:00.000Z',
    severity: 'high' as const,
    ruleName: 'Large upload to cloud storage',
  };
  return { ...body, source: 'generic', raw: body, ...overrides };
}

/** Tuesday 2026-11-24 10:00 in Berlin; 10 MiB to the approved SharePoint tenant: benign. */
export function benignAlert(overrides: Partial<NormalizedAlert> = {}): NormalizedAlert {
  return escalatingAlert({
    alertId: unique('ben'),
    destDomain: 'acme.sharepoint.com',
    bytesOut: 10 * MiB,
    eventTime: '2026-11-24T09:00:00.000Z',
    severity: 'low',
    ...overrides,
  });
}
