/** The OpenAPI 3.1 document of every route (openapi/openapi.json), served as is. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

export const OPENAPI_PATH = path.resolve(__dirname, '../../../openapi/openapi.json');

export function openApiRoutes() {
  const document = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as unknown;
  return (app: FastifyInstance) => {
    app.get('/openapi.json', async (_request, reply) => reply.type('application/json').send(document));
  };
}
