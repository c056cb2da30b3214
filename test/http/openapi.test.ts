/** The OpenAPI document in openapi/ and the fastify routes must agree: every route documented, nothing extra. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { parseConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { OPENAPI_PATH } from '../../src/http/routes/openapi';
import { createLogger } from '../../src/logger';
import { rawTestConfig } from '../helpers/fixtures';

const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
const app = buildApp({ config: parseConfig(rawTestConfig(), {}), client, logger: createLogger({ level: 'silent' }) });

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}
const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as OpenApiDocument;

/** `METHOD /path/{param}` for every route fastify serves (HEAD is fastify's automatic twin of GET). */
async function servedRoutes(): Promise<string[]> {
  await app.ready();
  const tree = app.printRoutes({ commonPrefix: false });
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + (match[2] ?? '');
    stack[depth] = full;
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) {
      routes.push(`${method} ${full.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

const documentedRoutes = () =>
  Object.entries(document.paths)
    .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();

describe('the OpenAPI document', () => {
  after(async () => {
    await app.close();
    await client.connection.close();
  });

  test('is OpenAPI 3.1', () => {
    assert.equal(document.openapi, '3.1.0');
  });

  test('documents exactly the routes the app serves', async () => {
    const served = await servedRoutes();
    assert.ok(served.length >= 7, `parsed too few routes: ${served.join(', ')}`);
    const documented = documentedRoutes();
    assert.deepEqual(
      { undocumented: served.filter((r) => !documented.includes(r)), notServed: documented.filter((r) => !served.includes(r)) },
      { undocumented: [], notServed: [] },
    );
  });

  test('names, for every SIEM route, the statuses it can answer', () => {
    for (const source of ['generic', 'splunk', 'elastic', 'sentinel']) {
      const statuses = Object.keys(document.paths[`/webhooks/siem/${source}`]?.post?.responses ?? {});
      for (const status of ['200', '202', '400', '401', '413', '415', '503']) {
        assert.ok(statuses.includes(status), `${source} does not document ${status}`);
      }
    }
  });

  test('is served at GET /openapi.json', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), document);
  });
});
