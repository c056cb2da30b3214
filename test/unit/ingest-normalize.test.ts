/** Value normalization and the per-SIEM normalizers, over the sample payloads shipped in examples/. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CaseKeys, caseIndexIdFor, registrableDomain } from '../../src/ingest/case-key';
import { normalizeElastic } from '../../src/ingest/elastic';
import { normalizeGeneric } from '../../src/ingest/generic';
import { parseNdjson } from '../../src/ingest/ndjson';
import type { Normalized } from '../../src/ingest/normalize';
import { normalizeSentinel } from '../../src/ingest/sentinel';
import { normalizeSplunk } from '../../src/ingest/splunk';
import { parseBytes, parseTime } from '../../src/ingest/values';

const NOW = new Date('2026-11-28T08:00:00Z');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const example = (name: string) => JSON.parse(readFileSync(path.join(EXAMPLES, name), 'utf8')) as Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

function ok(n: Normalized | { envelope: unknown }) {
  assert.ok(!('envelope' in n), `envelope error: ${JSON.stringify(n)}`);
  assert.ok(n.ok, `not normalized: ${JSON.stringify(n.ok ? null : n.details)}`);
  const { raw: _raw, ...alert } = n.alert;
  return alert;
}

function details(n: Normalized | { envelope: unknown } | { alerts: Normalized[] }) {
  if ('envelope' in n) return n.envelope;
  if ('alerts' in n) throw new Error('expected a rejection of the whole body');
  assert.equal(n.ok, false, 'expected a rejection');
  return n.ok ? [] : n.details;
}

describe('byte counts are normalized to integers', () => {
  const cases: [unknown, number][] = [
    [734003200, 734003200],
    ['734003200', 734003200],
    ['700MB', 700_000_000],
    ['700 MiB', 700 * 2 ** 20],
    ['1.2 GiB', Math.round(1.2 * 2 ** 30)],
    ['1.5kb', 1500],
    [' 42 B ', 42],
    [0, 0],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} is ${expected} bytes`, () => assert.deepEqual(parseBytes(input), { ok: true, value: expected }));
  }
  const bad: [unknown, string][] = [
    [-1, 'must not be negative'],
    ['-5MB', 'must not be negative'],
    ['lots', '"lots" is not a byte count (e.g. 734003200, "700MB", "1.2 GiB")'],
    ['12 parsecs', 'has an unknown unit "parsecs" (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)'],
    [1.5, 'must be a whole number of bytes'],
    ['', 'must not be empty'],
    [true, 'must be a number of bytes or a string such as "700MB"'],
    [Number.MAX_SAFE_INTEGER * 4, 'is too large'],
  ];
  for (const [input, message] of bad) {
    test(`${JSON.stringify(input)} is refused: ${message}`, () => assert.deepEqual(parseBytes(input), { ok: false, message }));
  }
});

describe('times are normalized to ISO 8601 UTC', () => {
  const cases: [unknown, string][] = [
    ['2026-11-28T01:14:00Z', '2026-11-28T01:14:00.000Z'],
    ['2026-11-28T02:14:00+01:00', '2026-11-28T01:14:00.000Z'],
    ['2026-11-28 02:14:00.250 +0100', '2026-11-28T01:14:00.250Z'],
    [1795828440, '2026-11-28T01:14:00.000Z'],
    [1795828440123, '2026-11-28T01:14:00.123Z'],
    ['1795828440.500', '2026-11-28T01:14:00.500Z'],
    ['1795828440123', '2026-11-28T01:14:00.123Z'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} is ${expected}`, () => assert.deepEqual(parseTime(input), { ok: true, value: expected }));
  }
  const bad: [unknown, string][] = [
    ['2026-11-28 01:14', '"2026-11-28 01:14" has no time zone; send UTC ("Z") or an offset'],
    ['yesterday', '"yesterday" is not a time (ISO 8601 with a zone, or epoch seconds or milliseconds)'],
    ['2026-13-45T99:00:00Z', 'is not a valid date'],
    [-5, 'must be a non-negative epoch time'],
  ];
  for (const [input, message] of bad) {
    test(`${JSON.stringify(input)} is refused: ${message}`, () => assert.deepEqual(parseTime(input), { ok: false, message }));
  }
});

describe('Splunk webhook alert action', () => {
  test('the sample normalizes: sid is the alert ID, string values become numbers and ISO times', () => {
    assert.deepEqual(ok(normalizeSplunk(example('splunk.json'), NOW)), {
      alertId: 'scheduler__admin__search__RMD5a1f0c3e9d2b7c4f1_at_1795828440_1187',
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'www.dropbox.com',
      destUrl: 'https://www.dropbox.com/upload',
      bytesOut: 700_000_000,
      eventTime: '2026-11-28T01:14:00.000Z',
      severity: 'high',
      ruleName: 'T1567.002 - Large upload to cloud storage',
      source: 'splunk',
    });
  });

  test('without a severity in the result, the alert is medium', () => {
    const body = clone(example('splunk.json')) as { result: Record<string, unknown> };
    delete body.result.severity;
    assert.equal(ok(normalizeSplunk(body, NOW)).severity, 'medium');
  });

  test('without dest_host, the destination comes from the URL', () => {
    const body = clone(example('splunk.json')) as { result: Record<string, unknown> };
    delete body.result.dest_host;
    assert.equal(ok(normalizeSplunk(body, NOW)).destDomain, 'www.dropbox.com');
  });

  test('problems are named by the Splunk field', () => {
    const body = clone(example('splunk.json')) as { result: Record<string, unknown> };
    body.result.bytes_out = '-3';
    body.result._time = 'noon';
    delete body.result.user;
    body.result.src_ip = 'not-an-ip';
    assert.deepEqual(details(normalizeSplunk(body, NOW)), [
      { path: 'result.user', message: 'is required' },
      { path: 'result.bytes_out', message: 'must not be negative' },
      { path: 'result._time', message: '"noon" is not a time (ISO 8601 with a zone, or epoch seconds or milliseconds)' },
      { path: 'result.src_ip', message: 'must be an IPv4 or IPv6 address' },
    ]);
  });

  test('a missing sid is named', () => {
    const { sid: _sid, ...body } = example('splunk.json');
    assert.deepEqual(details(normalizeSplunk(body, NOW)), [{ path: 'sid', message: 'is required' }]);
  });
});

describe('Kibana Security webhook', () => {
  test('each element of alerts normalizes, nested or flattened ECS fields alike', () => {
    const result = normalizeElastic(example('elastic.json'), NOW);
    assert.ok('alerts' in result);
    const [first, second] = result.alerts.map(ok);
    assert.deepEqual(first, {
      alertId: 'b2c1f0a2e3d94c5a8f7e6d5c4b3a2918',
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'content.dropboxapi.com',
      destUrl: 'https://content.dropboxapi.com/2/files/upload',
      bytesOut: 734003200,
      eventTime: '2026-11-28T01:14:00.000Z',
      severity: 'high',
      ruleName: 'T1567.002 Large upload to cloud storage',
      source: 'elastic',
    });
    assert.equal(second?.alertId, 'c3d2e1f0a9b84766a5b4c3d2e1f00a1b');
    assert.equal(second?.bytesOut, Math.round(1.2 * 2 ** 30));
    assert.equal(second?.destDomain, 'www.dropbox.com');
  });

  test('one bad alert is refused on its own, named by its index and ECS field', () => {
    const body = clone(example('elastic.json')) as { alerts: Record<string, unknown>[] };
    (body.alerts[1] as Record<string, unknown>)['destination.domain'] = 'https://evil.example/path';
    const result = normalizeElastic(body, NOW);
    assert.ok('alerts' in result);
    assert.equal(result.alerts[0]?.ok, true);
    assert.deepEqual(details(result.alerts[1] as Normalized), [
      { path: 'alerts.1.destination.domain', message: 'must be a host name, not a URL (put URLs in destUrl)' },
    ]);
  });

  test('an empty alerts array is refused as a whole', () => {
    assert.deepEqual(details(normalizeElastic({ alerts: [] }, NOW)), [{ path: 'alerts', message: 'must contain at least one alert' }]);
  });

  test('rule severity and name stand in when the alert lacks them', () => {
    const body = clone(example('elastic.json')) as { alerts: Record<string, unknown>[] };
    const alert = body.alerts[1] as Record<string, unknown>;
    delete alert['kibana.alert.severity'];
    delete alert['kibana.alert.rule.name'];
    const result = normalizeElastic(body, NOW);
    assert.ok('alerts' in result);
    const second = ok(result.alerts[1] as Normalized);
    assert.equal(second.severity, 'high');
    assert.equal(second.ruleName, 'T1567.002 Large upload to cloud storage');
  });
});

describe('Microsoft Sentinel incident', () => {
  test('the sample normalizes from the related entities and the BytesOut custom detail', () => {
    assert.deepEqual(ok(normalizeSentinel(example('sentinel.json'), NOW)), {
      alertId: '7f3c2a91-4b6d-4e0a-9c1f-2d8e5b7a6c40',
      user: 'jdoe',
      host: 'LAPTOP-JD01',
      srcIp: '10.20.30.40',
      destDomain: 'www.dropbox.com',
      destUrl: 'https://www.dropbox.com/upload',
      bytesOut: 734003200,
      eventTime: '2026-11-28T01:14:00.000Z',
      severity: 'high',
      ruleName: 'T1567.002 Large upload to cloud storage',
      source: 'sentinel',
    });
  });

  test('a missing byte count names the custom detail to add', () => {
    const body = clone(example('sentinel.json')) as { object: { properties: { alerts: unknown[] } } };
    body.object.properties.alerts = [];
    assert.deepEqual(details(normalizeSentinel(body, NOW)), [
      { path: 'object.properties.alerts.0.properties.additionalData["Custom Details"].BytesOut', message: 'is required' },
    ]);
  });

  test('an incident without an Account entity names the entity', () => {
    const body = clone(example('sentinel.json')) as { object: { properties: { relatedEntities: { kind: string }[] } } };
    body.object.properties.relatedEntities = body.object.properties.relatedEntities.filter((e) => e.kind !== 'Account');
    assert.deepEqual(details(normalizeSentinel(body, NOW)), [
      { path: 'object.properties.relatedEntities[kind=Account]', message: 'is required' },
    ]);
  });

  test('an alert trigger body is refused: only incidents', () => {
    assert.deepEqual(details(normalizeSentinel({ ...example('sentinel.json'), objectSchemaType: 'Alert' }, NOW)), [
      { path: 'objectSchemaType', message: 'must be "Incident": only incident triggers are accepted' },
    ]);
  });
});

describe('generic schema and NDJSON', () => {
  test('the sample normalizes unchanged', () => {
    assert.equal(ok(normalizeGeneric(example('generic.json'), NOW)).alertId, 'PROXY-2026-11-28-000417');
  });

  test('NDJSON lines parse one by one; a malformed line is reported by number', () => {
    const batch = parseNdjson('{"a":1}\n\n{"a":\r\n{"b":2}\n');
    assert.deepEqual(
      batch.lines.map((l) => [l.line, l.ok]),
      [
        [1, true],
        [3, false],
        [4, true],
      ],
    );
  });

  test('a __proto__ key on an NDJSON line is refused', () => {
    const [line] = parseNdjson('{"__proto__":{"x":1}}').lines;
    assert.equal(line?.ok, false);
    assert.match(line?.ok === false ? line.message : '', /forbidden prototype property/);
  });
});

describe('case keys', () => {
  const catalog = { knownServices: () => Promise.resolve([{ name: 'Dropbox', domains: ['dropbox.com', 'dropboxapi.com'] }]) };

  test('hosts of one catalogued service share a key; the user is case-insensitive', async () => {
    const keys = new CaseKeys(catalog);
    assert.deepEqual(await keys.of({ user: 'JDoe', destDomain: 'content.dropboxapi.com' }), { user: 'jdoe', service: 'dropbox' });
    assert.deepEqual(await keys.of({ user: 'jdoe', destDomain: 'www.dropbox.com' }), { user: 'jdoe', service: 'dropbox' });
  });

  test('an uncatalogued host falls back to its registrable domain', async () => {
    const keys = new CaseKeys(catalog);
    assert.deepEqual(await keys.of({ user: 'jdoe', destDomain: 'eu.files.example.co.uk' }), { user: 'jdoe', service: 'example.co.uk' });
    assert.equal(registrableDomain('a.b.mega.nz'), 'mega.nz');
  });

  test('an unreadable catalog falls back instead of failing the alert', async () => {
    const errors: unknown[] = [];
    const keys = new CaseKeys({ knownServices: () => Promise.reject(new Error('broken yaml')) }, (e) => errors.push(e));
    assert.deepEqual(await keys.of({ user: 'jdoe', destDomain: 'www.dropbox.com' }), { user: 'jdoe', service: 'dropbox.com' });
    assert.equal(errors.length, 1);
  });

  test('different users never share a case index', () => {
    assert.notEqual(caseIndexIdFor({ user: 'j.doe', service: 'dropbox' }), caseIndexIdFor({ user: 'j-doe', service: 'dropbox' }));
    assert.match(caseIndexIdFor({ user: 'ACME\\jdoe', service: 'dropbox' }), /^t1567-002-cases-dropbox-[a-z0-9.-]+-[0-9a-f]{12}$/);
  });
});

describe('the subject is normalized to one canonical identity, the SIEM form kept as evidence', () => {
  const ORG = { domains: ['corp.example'], netbiosNames: ['CORP'] };
  const splunkWith = (user: unknown) => {
    const body = example('splunk.json');
    return { ...body, result: { ...(body.result as Record<string, unknown>), user } };
  };
  const forms: [string, string, string | undefined][] = [
    ['jdoe', 'jdoe', undefined],
    ['JDoe', 'jdoe', 'JDoe'],
    ['jdoe@corp.example', 'jdoe', 'jdoe@corp.example'],
    ['CORP\\jdoe', 'jdoe', 'CORP\\jdoe'],
    ['corp.example\\JDOE', 'jdoe', 'corp.example\\JDOE'],
    ['jdoe@partner.example', 'jdoe@partner.example', undefined],
  ];
  for (const [sent, user, asSent] of forms) {
    test(`Splunk user ${JSON.stringify(sent)} is ${user}${asSent ? ', sent form kept' : ''}`, () => {
      const alert = ok(normalizeSplunk(splunkWith(sent), NOW, ORG));
      assert.equal(alert.user, user);
      assert.equal(alert.userAsSent, asSent);
    });
  }

  test('the generic route canonicalises too, and an Elastic and a Sentinel alert for the same person get the same user', () => {
    const generic = ok(normalizeGeneric({ ...example('generic.json'), user: 'CORP\\jdoe' }, NOW, '', ORG));
    assert.equal(generic.user, 'jdoe');
    const elastic = example('elastic.json');
    const alerts = elastic.alerts as Record<string, unknown>[];
    const doc = { ...alerts[0], 'user.name': 'JDOE@CORP.EXAMPLE' };
    delete (doc as { user?: unknown }).user;
    const normalized = normalizeElastic({ ...elastic, alerts: [doc] }, NOW, ORG);
    assert.ok('alerts' in normalized);
    assert.equal(ok(normalized.alerts[0] as Normalized).user, 'jdoe');
  });

  test('a look-alike subject is refused under the SIEM field name', () => {
    assert.deepEqual(details(normalizeSplunk(splunkWith('jd\u043Ee'), NOW, ORG)), [
      { path: 'result.user', message: 'mixes scripts (Latin and Cyrillic); a look-alike name is refused rather than guessed' },
    ]);
  });

  test('a Splunk search_name of null (an unsaved search) names the rule by its sid; the null stays in the evidence', () => {
    const body: Record<string, unknown> = { ...example('splunk.json'), search_name: null };
    const n = normalizeSplunk(body, NOW, ORG);
    assert.ok(!('envelope' in n) && n.ok);
    assert.equal(n.alert.ruleName, `Splunk search ${String(body.sid)}`);
    assert.equal((n.alert.raw as { search_name: unknown }).search_name, null);
  });
});
