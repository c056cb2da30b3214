/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call -- sample payloads are edited as loose JSON */
/**
 * The SIEM routes over app.inject(): per-source authentication (a Standard Webhooks signature made with the
 * `standardwebhooks` package as a SIEM would, a bearer token, a query-string token), the bad-input list, batches,
 * and an unreachable Temporal. The Temporal client points at a closed port: nothing can be recorded here, so every
 * request that gets past validation must end in a 503, never a 2xx.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { parseConfig, sanitizeConfig, secretsOf } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { rawTestConfig } from '../helpers/fixtures';
import { captureLogs } from '../helpers/logs';

const NOW = new Date('2026-11-28T08:00:00Z');
const EXAMPLES = path.resolve(__dirname, '../../examples');
const example = (name: string) => readFileSync(path.join(EXAMPLES, name), 'utf8');
const exampleJson = (name: string) => JSON.parse(example(name)) as Record<string, any>;

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
const CURRENT = secret();
const PREVIOUS = secret();
const RETIRED = secret();
const SPLUNK_TOKEN = 'splunk-query-token-0123456789';
const KIBANA_TOKEN = 'kibana-bearer-token-0123456789';

const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '300ms' }) });

function setup(extra: Record<string, unknown> = {}) {
  const raw = rawTestConfig();
  const config = parseConfig(
    {
      ...raw,
      ingest: {
        sources: {
          splunk: { auth: { type: 'query-token', tokens: [SPLUNK_TOKEN] } },
          elastic: { auth: { type: 'bearer', tokens: [KIBANA_TOKEN] } },
          sentinel: { auth: { type: 'standard-webhooks', secrets: [CURRENT, PREVIOUS] } },
        },
      },
      ...extra,
    },
    {},
  );
  const { logger, lines } = captureLogs();
  const app = buildApp({ config, client: unreachable, logger, now: () => NOW, recordDeadlineMs: 1_500 });
  return { app, lines };
}

const { app, lines: logLines } = setup();

type Headers = Record<string, string>;
const post = (url: string, payload: string | Buffer, headers: Headers) => app.inject({ method: 'POST', url, headers, payload });

function signed(body: string, key = CURRENT, at = new Date(), id = `msg_${randomBytes(8).toString('hex')}`): Headers {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(key).sign(id, at, body),
  };
}

const splunk = (body: string | Buffer, headers: Headers = {}, query = `?token=${SPLUNK_TOKEN}`) =>
  post(`/webhooks/siem/splunk${query}`, body, { 'content-type': 'application/json', ...headers });
const elastic = (body: string | Buffer, headers: Headers = {}) =>
  post('/webhooks/siem/elastic', body, { 'content-type': 'application/json', authorization: `Bearer ${KIBANA_TOKEN}`, ...headers });
const sentinel = (body: string) => post('/webhooks/siem/sentinel', body, signed(body));

const lastAuthFailure = () => {
  const line = [...logLines].reverse().find((l) => l.includes('Authentication failed'));
  return line ? (JSON.parse(line) as { source: string; reason: string }) : null;
};

after(async () => {
  await unreachable.connection.close();
});

describe('Standard Webhooks signatures (Sentinel route)', () => {
  const body = JSON.stringify({ eventUniqueId: 'x' });

  test('a signature made with the current secret gets through to validation', async () => {
    const res = await post('/webhooks/siem/sentinel', body, signed(body, CURRENT));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Invalid alert');
  });

  test('a signature made with the previous secret still works while both are configured (rotation)', async () => {
    const res = await post('/webhooks/siem/sentinel', body, signed(body, PREVIOUS));
    assert.equal(res.statusCode, 400);
  });

  const refusals: [string, () => Headers, string][] = [
    ['missing', () => ({ 'content-type': 'application/json' }), 'missing webhook-id, webhook-timestamp or webhook-signature header'],
    [
      'malformed',
      () => ({ ...signed(body), 'webhook-signature': 'sha256=deadbeef' }),
      'malformed webhook-signature header (expected "v1,<base64>")',
    ],
    ['expired', () => signed(body, CURRENT, new Date(Date.now() - 6 * 60_000)), 'signature timestamp is more than 5 minutes old'],
    [
      'from the future',
      () => signed(body, CURRENT, new Date(Date.now() + 6 * 60_000)),
      'signature timestamp is more than 5 minutes in the future',
    ],
    ['made with a retired secret', () => signed(body, RETIRED), 'no signature matches any configured secret'],
    ['over a different body', () => signed(`${body} `), 'no signature matches any configured secret'],
    ['with a non-numeric timestamp', () => ({ ...signed(body), 'webhook-timestamp': 'soon' }), 'malformed webhook-timestamp header'],
  ];
  for (const [what, headers, reason] of refusals) {
    test(`a signature that is ${what} is an opaque 401, logged with the source and the reason`, async () => {
      const res = await post('/webhooks/siem/sentinel', body, headers());
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'Unauthorized', details: [] });
      assert.deepEqual((({ source, reason: r }) => ({ source, reason: r }))(lastAuthFailure() ?? { source: '', reason: '' }), {
        source: 'sentinel',
        reason,
      });
    });
  }

  test('an unsigned request with a malformed body is a 401, not a 400: nothing is said before authentication', async () => {
    const res = await post('/webhooks/siem/sentinel', '{"broken', { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 401);
  });

  test('a signed request with a malformed body is a 400 naming the problem', async () => {
    const res = await post('/webhooks/siem/sentinel', '{"broken', signed('{"broken'));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Malformed JSON body');
  });
});

describe('bearer and query-string tokens', () => {
  test('Kibana without a bearer token is a 401 with a Bearer challenge', async () => {
    const res = await elastic('{}', { authorization: '' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="siem"');
  });

  test('Kibana with a wrong bearer token is a 401, logged as an unknown token', async () => {
    const res = await elastic('{}', { authorization: 'Bearer not-the-token' });
    assert.equal(res.statusCode, 401);
    assert.equal(lastAuthFailure()?.reason, 'unknown bearer token');
  });

  test('Splunk without the query token is a 401', async () => {
    const res = await splunk('{}', {}, '');
    assert.equal(res.statusCode, 401);
    assert.equal(lastAuthFailure()?.reason, 'missing token query parameter');
  });

  test('Splunk with a repeated token parameter is a 401', async () => {
    const res = await splunk('{}', {}, `?token=${SPLUNK_TOKEN}&token=${SPLUNK_TOKEN}`);
    assert.equal(res.statusCode, 401);
  });

  test('query-string tokens, right or wrong, never reach a log line', async () => {
    const wrong = 'wrong-splunk-token-987654321';
    assert.equal((await splunk('{}', {}, `?token=${wrong}`)).statusCode, 401);
    assert.equal((await splunk('{}')).statusCode, 400);
    const log = logLines.join('');
    assert.match(log, /\/webhooks\/siem\/splunk\?token=\[redacted\]/);
    assert.ok(!log.includes(wrong), 'the wrong token was logged');
    assert.ok(!log.includes(SPLUNK_TOKEN), 'the configured token was logged');
    assert.ok(!log.includes(KIBANA_TOKEN), 'the bearer token was logged');
  });

  test('a source without its own auth uses http.webhookTokens as bearer tokens', async () => {
    const { app: withShared } = setup({ http: { host: '127.0.0.1', port: 0, webhookTokens: ['shared-token-123456'] } });
    const refused = await withShared.inject({
      method: 'POST',
      url: '/webhooks/siem/generic',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(refused.statusCode, 401);
    const allowed = await withShared.inject({
      method: 'POST',
      url: '/webhooks/siem/generic',
      headers: { 'content-type': 'application/json', authorization: 'Bearer shared-token-123456' },
      payload: '{}',
    });
    assert.equal(allowed.statusCode, 400);
  });
});

describe('authentication configuration fails closed', () => {
  const base = rawTestConfig();
  test('"none" is refused off loopback', () => {
    assert.throws(
      () =>
        parseConfig(
          { ...base, http: { host: '0.0.0.0', apiTokens: ['a-token-1234'] }, ingest: { sources: { splunk: { auth: { type: 'none' } } } } },
          {},
        ),
      /ingest\.sources\.splunk\.auth: "none" is only allowed when http\.host is a loopback address \(it is 0\.0\.0\.0\)/,
    );
  });

  test('a source left without authentication off loopback is named', () => {
    assert.throws(
      () =>
        parseConfig(
          {
            ...base,
            http: { host: '0.0.0.0', apiTokens: ['a-token-1234'] },
            ingest: { sources: { splunk: { auth: { type: 'bearer', tokens: ['t-123456'] } } } },
          },
          {},
        ),
      /http\.webhookTokens: required when http\.host \(0\.0\.0\.0\) is not a loopback address.*ingest\.sources\.generic\.auth/,
    );
  });

  test('a Standard Webhooks secret that is not whsec_ base64 is refused', () => {
    assert.throws(
      () => parseConfig({ ...base, ingest: { sources: { sentinel: { auth: { type: 'standard-webhooks', secrets: ['hunter2'] } } } } }, {}),
      /ingest\.sources\.sentinel\.auth\.secrets\.0: must be a Standard Webhooks secret: whsec_ followed by base64/,
    );
  });

  test('ingest secrets are redacted in the sanitized config and known to the log scrubber', () => {
    const config = parseConfig(
      { ...base, ingest: { sources: { sentinel: { auth: { type: 'standard-webhooks', secrets: ['env:WHSEC'] } } } } },
      { WHSEC: CURRENT },
    );
    assert.ok(!JSON.stringify(sanitizeConfig(config)).includes(CURRENT.slice(6)));
    assert.ok(secretsOf(config).includes(CURRENT));
    assert.ok(secretsOf(config).includes(CURRENT.slice(6)));
  });
});

describe('bad input on the SIEM routes is refused with the status and a message naming the problem', () => {
  const splunkBody = exampleJson('splunk.json');
  const withResult = (result: Record<string, unknown>) => JSON.stringify({ ...splunkBody, result: { ...splunkBody.result, ...result } });

  test('malformed JSON is a 400', async () => {
    const res = await splunk('{"sid": ');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Malformed JSON body');
  });

  test('a wrong content type is a 415', async () => {
    const res = await elastic(example('elastic.json'), { 'content-type': 'text/plain' });
    assert.equal(res.statusCode, 415);
    assert.deepEqual(res.json().details, [{ path: 'content-type', message: 'got text/plain' }]);
  });

  test('NDJSON outside the generic route is a 415', async () => {
    const res = await splunk('{}\n{}', { 'content-type': 'application/x-ndjson' });
    assert.equal(res.statusCode, 415);
    assert.deepEqual(res.json().details, [
      { path: 'content-type', message: 'application/x-ndjson is accepted only on /webhooks/siem/generic' },
    ]);
  });

  test('a body over the limit is a 413, before it is parsed', async () => {
    const res = await splunk(`{"sid": "${'x'.repeat(1024 * 1024)}"`);
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'Body exceeds the limit of 1048576 bytes');
  });

  test('a missing field is named by its Splunk path', async () => {
    const { sid: _sid, ...rest } = splunkBody;
    const res = await splunk(JSON.stringify(rest));
    assert.deepEqual(res.json(), { error: 'Invalid alert', details: [{ path: 'sid', message: 'is required' }] });
  });

  test('a wrongly typed field is named', async () => {
    const body = exampleJson('sentinel.json');
    body.object.properties.incidentNumber = '4711';
    const res = await sentinel(JSON.stringify(body));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().details, [{ path: 'object.properties.incidentNumber', message: 'must be a number' }]);
  });

  test('an extra field on an NDJSON line of the generic route is named with its line', async () => {
    const line = JSON.stringify({ ...exampleJson('generic.json'), comment: 'hi' });
    const res = await post('/webhooks/siem/generic', line, { 'content-type': 'application/x-ndjson' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().results, [
      {
        index: 1,
        alertId: null,
        status: 'rejected',
        error: 'Invalid alert',
        details: [{ path: 'line 1: comment', message: 'unexpected field' }],
      },
    ]);
  });

  test('an empty string is named', async () => {
    const res = await splunk(withResult({ user: '' }));
    assert.deepEqual(res.json().details, [{ path: 'result.user', message: 'must not be empty' }]);
  });

  test('a huge string is named', async () => {
    const res = await splunk(withResult({ user: 'u'.repeat(5000) }));
    assert.deepEqual(res.json().details, [{ path: 'result.user', message: 'must be at most 256 characters' }]);
  });

  test('a body that is not UTF-8 is a 400', async () => {
    const res = await elastic(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Body is not valid UTF-8');
  });

  test('a __proto__ key is refused', async () => {
    const res = await sentinel('{"eventUniqueId": "x", "__proto__": {"isAdmin": true}}');
    assert.equal(res.statusCode, 400);
    assert.match(res.json().details[0].message, /forbidden prototype property/);
  });

  test('a constructor.prototype key is refused', async () => {
    const res = await splunk('{"constructor": {"prototype": {"isAdmin": true}}}');
    assert.equal(res.statusCode, 400);
    assert.match(res.json().details[0].message, /forbidden prototype property/);
  });

  test('a __proto__ key deep in the body is refused naming where it was', async () => {
    const res = await elastic('{"alerts": [{"user": {"name": "jdoe", "__proto__": {"isAdmin": true}}}]}');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().details, [
      {
        path: 'alerts.0.user.__proto__',
        message: 'Object contains forbidden prototype property (the key alerts.0.user.__proto__); such keys are refused',
      },
    ]);
  });

  const brokenText: [string, string, string, string][] = [
    ['a lone surrogate in the user', 'user', '\\ud800jdoe', 'is not valid Unicode (a lone surrogate U+D800)'],
    ['a NUL in the user', 'user', 'jdoe\\u0000', 'contains a control character (U+0000)'],
    ['an escape character in the host', 'src_host', 'LAP\\u001b[31mTOP', 'contains a control character (U+001B)'],
    ['a lone surrogate in the host', 'src_host', 'LAPTOP-\\udc00', 'is not valid Unicode (a lone surrogate U+DC00)'],
    ['a zero-width space in the destination', 'dest_host', 'drop\\u200bbox.com', 'contains an invisible formatting character (U+200B)'],
    [
      'a user that mixes Latin and Cyrillic',
      'user',
      'jd\\u043ee',
      'mixes scripts (Latin and Cyrillic); a look-alike name is refused rather than guessed',
    ],
  ];
  for (const [what, field, value, message] of brokenText) {
    test(`${what} is a 400 naming the field`, async () => {
      // Spliced into the JSON text as an escape, exactly as a SIEM would send it.
      const body = withResult({ [field]: '@@' }).replace('"@@"', `"${value}"`);
      const res = await splunk(body);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { error: 'Invalid alert', details: [{ path: `result.${field}`, message }] });
    });
  }

  test('a broken alertId is a 400 naming the field (the generic route)', async () => {
    const body = JSON.stringify({ ...exampleJson('generic.json'), alertId: '@@' }).replace('"@@"', '"a\\u0000b"');
    const res = await post('/webhooks/siem/generic', body, { 'content-type': 'application/json' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().details[0].path, 'alertId');
  });

  test('a Splunk alert whose search_name is null (an unsaved search) is accepted, not refused', async () => {
    // Accepted means it reaches recording: Temporal is unreachable here, so the answer is the 503 of a valid alert.
    const res = await splunk(JSON.stringify({ ...splunkBody, search_name: null }));
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().error, 'Temporal is unavailable; nothing was recorded, retry later');
  });

  test('an event time far in the future is named', async () => {
    const res = await splunk(withResult({ _time: String(Date.parse('2027-06-01T00:00:00Z') / 1000) }));
    assert.deepEqual(res.json().details, [{ path: 'result._time', message: 'is more than 15 minutes in the future' }]);
  });

  test('an event time far in the past is named', async () => {
    const res = await splunk(withResult({ _time: '2020-01-01T00:00:00Z' }));
    assert.deepEqual(res.json().details, [{ path: 'result._time', message: 'is more than a year in the past' }]);
  });

  test('a negative byte count is named', async () => {
    const res = await splunk(withResult({ bytes_out: '-1' }));
    assert.deepEqual(res.json().details, [{ path: 'result.bytes_out', message: 'must not be negative' }]);
  });

  test('a non-numeric byte count is named', async () => {
    const res = await splunk(withResult({ bytes_out: 'lots' }));
    assert.deepEqual(res.json().details, [
      { path: 'result.bytes_out', message: '"lots" is not a byte count (e.g. 734003200, "700MB", "1.2 GiB")' },
    ]);
  });

  test('a destination that is not a host name is named', async () => {
    const body = exampleJson('sentinel.json');
    const dns = body.object.properties.relatedEntities.find((e: { kind: string }) => e.kind === 'DnsResolution');
    dns.properties.domainName = 'https://www.dropbox.com/upload';
    const res = await sentinel(JSON.stringify(body));
    assert.deepEqual(res.json().details, [
      {
        path: 'object.properties.relatedEntities.4.properties.domainName',
        message: 'must be a host name, not a URL (put URLs in destUrl)',
      },
    ]);
  });

  test('a URL that is not http(s) is named', async () => {
    const res = await splunk(withResult({ url: 'ftp://files.example/x' }));
    assert.deepEqual(res.json().details, [{ path: 'result.url', message: 'must be an http(s) URL' }]);
  });

  test('an Elastic batch whose every alert is invalid is a 400 listing each', async () => {
    const body = exampleJson('elastic.json');
    body.alerts[0]['source'] = { ip: '10.20.30.40', bytes: -5 };
    body.alerts[1]['kibana.alert.original_time'] = '2020-01-01T00:00:00Z';
    const res = await elastic(JSON.stringify(body));
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json().results.map((r: { status: string; details: unknown }) => [r.status, r.details]),
      [
        ['rejected', [{ path: 'alerts.0.source.bytes', message: 'must not be negative' }]],
        ['rejected', [{ path: 'alerts.1.kibana.alert.original_time', message: 'is more than a year in the past' }]],
      ],
    );
  });
});

describe('nothing is acknowledged that Temporal has not recorded', () => {
  test('a valid Splunk alert while Temporal is unreachable is a 503 with Retry-After', async () => {
    const res = await splunk(example('splunk.json'));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(res.json().error, 'Temporal is unavailable; nothing was recorded, retry later');
  });

  test('a valid, signed Sentinel incident while Temporal is unreachable is a 503', async () => {
    const res = await sentinel(example('sentinel.json'));
    assert.equal(res.statusCode, 503);
  });

  test('an Elastic batch with one valid alert is a 503 listing which alert was not recorded and which was refused', async () => {
    const body = exampleJson('elastic.json');
    body.alerts[1]['user.name'] = '';
    const res = await elastic(JSON.stringify(body));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.deepEqual(
      res.json().results.map((r: { index: number; status: string }) => [r.index, r.status]),
      [
        [0, 'unavailable'],
        [1, 'rejected'],
      ],
    );
  });

  test('an NDJSON batch reports each line: malformed lines refused, valid ones not recorded', async () => {
    const res = await post('/webhooks/siem/generic', `${example('generic-batch.ndjson').split('\n')[0]}\n{"alertId":\n`, {
      'content-type': 'application/x-ndjson',
    });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(
      res.json().results.map((r: { index: number; status: string }) => [r.index, r.status]),
      [
        [1, 'unavailable'],
        [2, 'rejected'],
      ],
    );
    assert.match(res.json().results[1].details[0].message, /^malformed JSON: /);
  });
});
