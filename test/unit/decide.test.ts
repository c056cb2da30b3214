/** The escalation decision over a table of cases covering every rule of the seed and every boundary. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_DECISION_POLICY, decide, destinationHostShown, RULE_VERSION_SINGLE_UPLOAD } from '../../workflows/decide';
import type { DecisionPolicy, Enrichment, Finding } from '../../src/contracts/playbook';
import { escalatingAlert, MiB } from '../helpers/fixtures';

const unknown = (source: string): Finding<never> => ({ status: 'unknown', source, reason: `${source} is down` });

/** Every finding clean: approved domain, authorized user, managed device, business hours, normal volume. */
function clean(): Enrichment {
  return {
    domain: {
      status: 'ok',
      source: 't',
      value: {
        host: 'acme.sharepoint.com',
        approved: true,
        matchedApprovedDomain: 'acme.sharepoint.com',
        cloudStorageService: 'SharePoint',
        isIpLiteral: false,
      },
    },
    hr: {
      status: 'ok',
      source: 't',
      value: {
        user: 'jdoe',
        displayName: 'Jane',
        department: 'Finance',
        title: 'Analyst',
        groups: ['finance'],
        employmentStatus: 'active',
        manager: 'mmanager',
        timezone: 'Europe/Berlin',
        cloudStorageAuthorized: true,
      },
    },
    policyChanges: { status: 'ok', source: 't', value: { windowDays: 90, records: [] } },
    device: { status: 'ok', source: 't', value: { host: 'LAPTOP-JD01', managed: true, owner: 'jdoe', cloudStorageAllowed: true } },
    baseline: { status: 'ok', source: 't', value: { user: 'jdoe', days: 30, meanBytes: 100 * MiB, stdDevBytes: 10 * MiB } },
    businessHours: {
      status: 'ok',
      source: 't',
      value: {
        timezone: 'Europe/Berlin',
        timezoneSource: 'hr',
        localTime: '2026-11-24T10:00:00+01:00',
        weekday: 'Tuesday',
        withinBusinessHours: true,
        reason: 'Tuesday 09:00-18:00',
      },
    },
  };
}

const offHours: Enrichment['businessHours'] = {
  status: 'ok',
  source: 't',
  value: {
    timezone: 'Europe/Berlin',
    timezoneSource: 'hr',
    localTime: '2026-11-28T02:14:00+01:00',
    weekday: 'Saturday',
    withinBusinessHours: false,
    reason: 'Saturday',
  },
};
const baseline = (days: number, meanMiB: number, sdMiB: number): Enrichment['baseline'] => ({
  status: 'ok',
  source: 't',
  value: { user: 'jdoe', days, meanBytes: meanMiB * MiB, stdDevBytes: sdMiB * MiB },
});
const pilot = (overrides: Record<string, unknown> = {}): Enrichment['policyChanges'] => ({
  status: 'ok',
  source: 't',
  value: {
    windowDays: 90,
    records: [
      {
        id: 'CHG1',
        kind: 'pilot',
        title: 'Finance Dropbox pilot',
        approved: true,
        users: [],
        groups: ['finance'],
        domains: ['dropbox.com'],
        validFrom: '2026-11-01T00:00:00Z',
        validTo: '2026-12-31T00:00:00Z',
        ...overrides,
      },
    ],
  },
});
const dropbox: Enrichment['domain'] = {
  status: 'ok',
  source: 't',
  value: { host: 'dropbox.com', approved: false, matchedApprovedDomain: null, cloudStorageService: 'Dropbox', isIpLiteral: false },
};
const hr = (patch: Record<string, unknown>): Enrichment['hr'] => {
  const base = clean().hr;
  return base.status === 'ok' ? { ...base, value: { ...base.value, ...patch } } : base;
};

interface Case {
  name: string;
  enrichment?: Partial<Enrichment>;
  bytesOut?: number;
  policy?: Partial<DecisionPolicy>;
  outcome: 'escalate' | 'review' | 'benign';
  triggeredBy: string[];
  justification?: string | null;
}

const cases: Case[] = [
  { name: 'everything clean is benign', outcome: 'benign', triggeredBy: [] },
  // Device authorization.
  {
    name: 'an unmanaged device escalates',
    enrichment: { device: { status: 'ok', source: 't', value: { host: 'BYOD', managed: false, owner: null, cloudStorageAllowed: true } } },
    outcome: 'escalate',
    triggeredBy: ['device-not-authorized'],
  },
  {
    name: 'a managed device not allowed cloud storage escalates',
    enrichment: { device: { status: 'ok', source: 't', value: { host: 'KIOSK', managed: true, owner: null, cloudStorageAllowed: false } } },
    outcome: 'escalate',
    triggeredBy: ['device-not-authorized'],
  },
  {
    name: 'an unknown device escalates (fail closed)',
    enrichment: { device: unknown('devices') },
    outcome: 'escalate',
    triggeredBy: ['device-not-authorized'],
  },
  // Volume: z-score with enough history.
  { name: 'z-score just under 3 does not escalate', bytesOut: 100 * MiB + 29.9 * MiB, outcome: 'benign', triggeredBy: [] },
  { name: 'z-score of exactly 3 escalates', bytesOut: 130 * MiB, outcome: 'escalate', triggeredBy: ['volume-out-of-norm'] },
  {
    name: 'the z-score threshold is configurable',
    bytesOut: 130 * MiB,
    policy: { zScoreThreshold: 5 },
    outcome: 'benign',
    triggeredBy: [],
  },
  // Volume: the floor.
  {
    name: 'a volume under the floor never counts, whatever the baseline',
    bytesOut: 50 * MiB - 1,
    enrichment: { baseline: baseline(30, 1, 0.1) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'a volume at the floor counts',
    bytesOut: 50 * MiB,
    enrichment: { baseline: baseline(30, 1, 0.1) },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  {
    name: 'an unknown baseline under the floor does not escalate',
    bytesOut: 10 * MiB,
    enrichment: { baseline: unknown('baselines') },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'an unknown baseline over the floor escalates (fail closed)',
    bytesOut: 60 * MiB,
    enrichment: { baseline: unknown('baselines') },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  // Volume: the multiplier rule with short history or zero deviation.
  {
    name: 'with 6 days of history, 9.99 x the mean does not escalate',
    bytesOut: Math.floor(9.99 * 10 * MiB),
    enrichment: { baseline: baseline(6, 10, 5) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'with 6 days of history, 10 x the mean escalates',
    bytesOut: 100 * MiB,
    enrichment: { baseline: baseline(6, 10, 5) },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  {
    name: 'with 7 days of history the z-score applies',
    bytesOut: 100 * MiB,
    enrichment: { baseline: baseline(7, 10, 50) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'zero deviation falls back to the multiplier',
    bytesOut: 99 * MiB,
    enrichment: { baseline: baseline(30, 10, 0) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'zero deviation and 10 x the mean escalates',
    bytesOut: 100 * MiB,
    enrichment: { baseline: baseline(30, 10, 0) },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  {
    name: 'no prior uploads (mean zero) over the floor escalates',
    bytesOut: 60 * MiB,
    enrichment: { baseline: baseline(3, 0, 0) },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  {
    name: 'with exactly 7 days and zero deviation the multiplier applies',
    bytesOut: 99 * MiB,
    enrichment: { baseline: baseline(7, 10, 0) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'with short history a large z-score alone does not escalate (the multiplier rule applies)',
    bytesOut: 90 * MiB,
    enrichment: { baseline: baseline(6, 10, 1) },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'the multiplier threshold is configurable',
    bytesOut: 60 * MiB,
    enrichment: { baseline: baseline(3, 10, 1) },
    policy: { multiplierThreshold: 5 },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  {
    name: 'the floor is configurable',
    bytesOut: 60 * MiB,
    enrichment: { baseline: baseline(30, 1, 0.1) },
    policy: { volumeFloorBytes: 100 * MiB },
    outcome: 'benign',
    triggeredBy: [],
  },
  {
    name: 'z-score exactly at the threshold with enough history and a nonzero deviation escalates even under 10 x',
    bytesOut: 70 * MiB,
    enrichment: { baseline: baseline(30, 40, 10) },
    outcome: 'escalate',
    triggeredBy: ['volume-out-of-norm'],
  },
  // Business hours and justification.
  {
    name: 'off hours without justification escalates',
    enrichment: { businessHours: offHours },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
  },
  {
    name: 'off hours with an approved pilot covering group, domain and time is benign',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot() },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot that is not approved justifies nothing',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ approved: false }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot that ended before the event justifies nothing',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ validTo: '2026-11-27T00:00:00Z' }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot that starts after the event justifies nothing',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ validFrom: '2026-11-29T00:00:00Z' }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot for another group justifies nothing',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ groups: ['engineering'] }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot naming the user covers them',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ groups: [], users: ['JDOE'] }) },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot for another domain justifies nothing',
    enrichment: {
      businessHours: offHours,
      domain: { ...dropbox, value: { ...(dropbox.status === 'ok' ? dropbox.value : ({} as never)), host: 'evil-dropbox.com' } },
      policyChanges: pilot(),
    },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot covers subdomains of its domain',
    enrichment: {
      businessHours: offHours,
      domain: { ...dropbox, value: { ...(dropbox.status === 'ok' ? dropbox.value : ({} as never)), host: 'content.dropbox.com' } },
      policyChanges: pilot(),
    },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot starting exactly at the event time covers it',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ validFrom: '2026-11-28T01:14:00.000Z' }) },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot ending exactly at the event time covers it',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ validTo: '2026-11-28T01:14:00.000Z' }) },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot ending a millisecond before the event justifies nothing',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ validTo: '2026-11-28T01:13:59.999Z' }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: "a pilot for the user's department covers them",
    enrichment: {
      businessHours: offHours,
      domain: dropbox,
      hr: hr({ department: 'Internal Audit', groups: [] }),
      policyChanges: pilot({ groups: ['internal audit'] }),
    },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'a pilot naming no users and no groups covers nobody',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ users: [], groups: [] }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'a pilot naming no domains covers no destination',
    enrichment: { businessHours: offHours, domain: dropbox, policyChanges: pilot({ domains: [] }) },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
    justification: null,
  },
  {
    name: 'unknown business hours with a justification do not escalate',
    enrichment: { businessHours: unknown('hours'), domain: dropbox, policyChanges: pilot() },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'unknown business hours without justification escalate (fail closed)',
    enrichment: { businessHours: unknown('hours') },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
  },
  {
    name: 'unknown policy changes cannot justify off hours',
    enrichment: { businessHours: offHours, policyChanges: unknown('changes') },
    outcome: 'escalate',
    triggeredBy: ['off-hours-without-justification'],
  },
  {
    name: 'a justification does not excuse an unauthorized device',
    enrichment: {
      businessHours: offHours,
      domain: dropbox,
      policyChanges: pilot(),
      device: { status: 'ok', source: 't', value: { host: 'BYOD', managed: false, owner: null, cloudStorageAllowed: false } },
    },
    outcome: 'escalate',
    triggeredBy: ['device-not-authorized'],
    justification: 'CHG1',
  },
  // Departing employees.
  {
    name: 'an employee on notice is escalated',
    enrichment: { hr: hr({ employmentStatus: 'on-notice' }) },
    outcome: 'escalate',
    triggeredBy: ['departing-employee'],
  },
  {
    name: 'a terminated employee is escalated',
    enrichment: { hr: hr({ employmentStatus: 'terminated' }) },
    outcome: 'escalate',
    triggeredBy: ['departing-employee'],
  },
  {
    name: 'with the departing rule disabled, notice alone is a review',
    enrichment: { hr: hr({ employmentStatus: 'on-notice' }) },
    policy: { escalateDepartingEmployees: false },
    outcome: 'review',
    triggeredBy: ['user-not-authorized'],
  },
  {
    name: 'an unknown HR record escalates (fail closed)',
    enrichment: { hr: unknown('hr') },
    outcome: 'escalate',
    triggeredBy: ['departing-employee'],
  },
  {
    name: 'with the departing rule disabled, an unknown HR record is a review (fail closed)',
    enrichment: { hr: unknown('hr') },
    policy: { escalateDepartingEmployees: false },
    outcome: 'review',
    triggeredBy: ['user-not-authorized'],
  },
  {
    name: 'an employee on leave is not departing, but HR does not authorize them: a review',
    enrichment: { hr: hr({ employmentStatus: 'on-leave' }) },
    outcome: 'review',
    triggeredBy: ['user-not-authorized'],
  },
  {
    name: 'a departing employee is escalated even when a pilot covers the transfer',
    enrichment: { hr: hr({ employmentStatus: 'on-notice' }), domain: dropbox, policyChanges: pilot() },
    outcome: 'escalate',
    triggeredBy: ['departing-employee'],
    justification: 'CHG1',
  },
  // Tier 1 review.
  {
    name: 'an unapproved domain alone is a review',
    enrichment: { domain: dropbox },
    outcome: 'review',
    triggeredBy: ['domain-not-approved'],
  },
  {
    name: 'an unknown domain is a review (fail closed)',
    enrichment: { domain: unknown('domains') },
    outcome: 'review',
    triggeredBy: ['domain-not-approved'],
  },
  {
    name: 'a user HR does not authorize is a review',
    enrichment: { hr: hr({ cloudStorageAuthorized: false }) },
    outcome: 'review',
    triggeredBy: ['user-not-authorized'],
  },
  {
    name: 'an unapproved domain covered by a pilot is benign',
    enrichment: { domain: dropbox, policyChanges: pilot() },
    outcome: 'benign',
    triggeredBy: [],
    justification: 'CHG1',
  },
  {
    name: 'an unapproved domain and an unauthorized user are both named in the review',
    enrichment: { domain: dropbox, hr: hr({ cloudStorageAuthorized: false }) },
    outcome: 'review',
    triggeredBy: ['domain-not-approved', 'user-not-authorized'],
  },
  {
    name: 'a pilot for another user does not turn a review into benign',
    enrichment: { domain: dropbox, policyChanges: pilot({ groups: [], users: ['someone-else'] }) },
    outcome: 'review',
    triggeredBy: ['domain-not-approved'],
    justification: null,
  },
  {
    name: 'several escalation rules are all named',
    bytesOut: 700 * MiB,
    enrichment: {
      businessHours: offHours,
      device: { status: 'ok', source: 't', value: { host: 'BYOD', managed: false, owner: null, cloudStorageAllowed: false } },
      hr: hr({ employmentStatus: 'terminated' }),
    },
    outcome: 'escalate',
    triggeredBy: ['device-not-authorized', 'volume-out-of-norm', 'off-hours-without-justification', 'departing-employee'],
  },
];

describe('the T1567.002 escalation decision', () => {
  for (const c of cases) {
    test(c.name, () => {
      const alert = escalatingAlert({ bytesOut: c.bytesOut ?? 20 * MiB });
      const record = decide(alert, { ...clean(), ...c.enrichment }, { ...DEFAULT_DECISION_POLICY, ...c.policy });
      assert.equal(record.outcome, c.outcome, record.reasons.join('\n'));
      assert.deepEqual(record.triggeredBy, c.triggeredBy);
      if (c.justification !== undefined) assert.equal(record.justification?.id ?? null, c.justification);
      assert.equal(record.reasons.length, Math.max(1, c.triggeredBy.length));
    });
  }

  test('the record names the rule version and shows each rule with its inputs, threshold and verdict', () => {
    const record = decide(escalatingAlert({ bytesOut: 130 * MiB }), clean(), DEFAULT_DECISION_POLICY);
    assert.equal(record.ruleVersion, RULE_VERSION_SINGLE_UPLOAD);
    assert.deepEqual(
      record.rules.map((r) => [r.rule, r.verdict]),
      [
        ['device-not-authorized', 'not-fired'],
        ['volume-out-of-norm', 'fired'],
        ['off-hours-without-justification', 'not-fired'],
        ['departing-employee', 'not-fired'],
        ['domain-not-approved', 'not-fired'],
        ['user-not-authorized', 'not-fired'],
      ],
    );
    const volume = record.rules[1];
    assert.equal(volume?.inputs.zScore, 3);
    assert.equal(volume?.threshold, 'z-score >= 3 (30 days of history); volumes under 50.0 MiB never count');
    assert.equal(record.reasons[0], 'volume-out-of-norm: 130.0 MiB is 3.0 standard deviations from the mean of 100.0 MiB/day.');
  });

  test("the device rule shows what the inventory said (e.g. Intune's compliance state)", () => {
    const record = decide(
      escalatingAlert({ bytesOut: 20 * MiB }),
      {
        ...clean(),
        device: {
          status: 'ok',
          source: 'microsoft-graph:intune-managed-devices',
          value: {
            host: 'LAPTOP-JD01',
            managed: true,
            owner: 'jdoe@acme.com',
            cloudStorageAllowed: false,
            detail: 'Intune: managementAgent mdm, complianceState noncompliant, owner type company',
          },
        },
      },
      DEFAULT_DECISION_POLICY,
    );
    const device = record.rules[0];
    assert.equal(device?.verdict, 'fired');
    assert.equal(device?.inputs.inventory, 'Intune: managementAgent mdm, complianceState noncompliant, owner type company');
    assert.equal(
      record.questionsForAnalysis.deviceAuthorized,
      'LAPTOP-JD01 is managed but not allowed to use cloud storage (Intune: managementAgent mdm, complianceState noncompliant, owner type company).',
    );
  });

  test('approvers are shown the punycode host from the record, not the raw field', () => {
    const homograph: Enrichment['domain'] = {
      status: 'ok',
      source: 't',
      value: { host: 'xn--drpbox-xqf.com', approved: false, matchedApprovedDomain: null, cloudStorageService: null, isIpLiteral: false },
    };
    const record = decide(escalatingAlert({ destDomain: 'drоpbox.com' }), { ...clean(), domain: homograph }, DEFAULT_DECISION_POLICY);
    assert.equal(destinationHostShown(record), 'xn--drpbox-xqf.com');
    assert.equal(
      destinationHostShown(decide(escalatingAlert(), { ...clean(), domain: unknown('domains') }, DEFAULT_DECISION_POLICY)),
      null,
    );
  });

  test("the record answers the seed's four questions for analysis", () => {
    const record = decide(
      escalatingAlert(),
      { ...clean(), businessHours: offHours, domain: dropbox, policyChanges: pilot() },
      DEFAULT_DECISION_POLICY,
    );
    assert.equal(
      record.questionsForAnalysis.legitimateBusinessNeed,
      'Yes: pilot CHG1 (Finance Dropbox pilot) covers this user and destination.',
    );
    assert.equal(record.questionsForAnalysis.deviceAuthorized, 'LAPTOP-JD01 is a managed device allowed to use cloud storage.');
    assert.equal(record.questionsForAnalysis.volumeAtypical, '700.0 MiB is 60.0 standard deviations from the mean of 100.0 MiB/day.');
    assert.equal(record.questionsForAnalysis.recentPolicyChanges, '1 recent cloud-storage change(s) reviewed; CHG1 applies.');
  });
});
