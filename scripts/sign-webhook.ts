/**
 * Signs a body as a Standard Webhooks sender does, printing curl header arguments, so a signed route can be replayed
 * by hand: `npx tsx scripts/sign-webhook.ts examples/sentinel.json` with the secret in SOAR_WEBHOOK_SECRET.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

const [file] = process.argv.slice(2);
const secret = process.env.SOAR_WEBHOOK_SECRET;
if (!file || !secret) {
  console.error('usage: SOAR_WEBHOOK_SECRET=whsec_... npx tsx scripts/sign-webhook.ts <body-file>');
  process.exit(2);
}
const body = readFileSync(file, 'utf8');
const id = `msg_${randomBytes(12).toString('hex')}`;
const now = new Date();
const signature = new Webhook(secret).sign(id, now, body);
console.log(
  [`-H 'webhook-id: ${id}'`, `-H 'webhook-timestamp: ${Math.floor(now.getTime() / 1000)}'`, `-H 'webhook-signature: ${signature}'`].join(
    ' ',
  ),
);
