/** Listens: the app is built in src/http/app.ts. */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config';

export async function listen(app: FastifyInstance, config: Config): Promise<string> {
  return app.listen({ host: config.http.host, port: config.http.port });
}
