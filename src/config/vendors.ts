/**
 * `vendors`: one block per vendor, holding how to reach it and its credentials, and nothing about what it is used
 * for. The capabilities (`enrichment`, `containment`, `audit.forward`) name the vendor that serves them.
 */
import { z } from 'zod';
import { requestTimeout } from './duration';
import { secret } from './secret';

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const name = z.string().trim().min(1);
const bearer = z.strictObject({ type: z.literal('bearer'), token: secret() });

const okta = z.strictObject({
  /** The Okta org, e.g. https://acme.okta.com. */
  orgUrl: httpUrl,
  /** `ssws`: an API token (Authorization: SSWS ...); `bearer`: an OAuth 2.0 access token for a service app. */
  auth: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('ssws'), token: secret() }), bearer]),
  requestTimeout,
});

/** One Entra ID app registration (client credentials) for Graph (Intune, sessions) and Defender for Endpoint. */
const microsoftEntra = z.strictObject({
  /** Entra ID tenant (GUID or domain). */
  tenantId: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a tenant ID or domain'),
  clientId: name,
  clientSecret: secret(),
  /** The Microsoft identity platform (sovereign clouds differ); tests point it at a stand-in. */
  authorityUrl: httpUrl.default('https://login.microsoftonline.com'),
  /** The token endpoint; default `<authorityUrl>/<tenantId>/oauth2/v2.0/token`. */
  tokenUrl: httpUrl.optional(),
  graphUrl: httpUrl.default('https://graph.microsoft.com'),
  defenderUrl: httpUrl.default('https://api.securitycenter.microsoft.com'),
  defenderScope: z.string().min(1).default('https://api.securitycenter.microsoft.com/.default'),
  requestTimeout,
});

const crowdstrike = z.strictObject({
  baseUrl: httpUrl.default('https://api.crowdstrike.com'),
  clientId: name,
  clientSecret: secret(),
  /** The child CID, for a Falcon Flight Control (MSSP) parent. */
  memberCid: z.string().optional(),
  requestTimeout,
});

const sentinelone = z.strictObject({ baseUrl: httpUrl, apiToken: secret(), requestTimeout });

const googleWorkspace = z.strictObject({
  baseUrl: httpUrl.default('https://admin.googleapis.com'),
  /** The service-account key JSON; write it as file:/path/key.json or env:NAME. */
  serviceAccountKey: secret(),
  /** The admin the service account acts as (domain-wide delegation). */
  subject: name,
  tokenUri: httpUrl.optional(),
  requestTimeout,
});

const dropbox = z.strictObject({ baseUrl: httpUrl.default('https://api.dropboxapi.com'), accessToken: secret(), requestTimeout });

const servicenow = z.strictObject({
  /** The instance, e.g. https://acme.service-now.com. */
  instanceUrl: httpUrl,
  auth: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('basic'), username: name, password: secret() }), bearer]),
  requestTimeout,
});

const elasticsearch = z.strictObject({
  /** e.g. https://siem.acme.internal:9200 (or an Elastic Cloud endpoint). */
  url: httpUrl,
  /** The base64 `id:api_key` value ("encoded" in the create-API-key response); sent as `Authorization: ApiKey ...`. */
  apiKey: secret().optional(),
  requestTimeout,
});

const splunk = z.strictObject({
  /** Base URL of the HTTP Event Collector, e.g. https://splunk.example:8088. */
  hecUrl: httpUrl,
  hecToken: secret(),
  requestTimeout,
});

export const vendorsSection = z.strictObject({
  okta: okta.optional(),
  microsoftEntra: microsoftEntra.optional(),
  crowdstrike: crowdstrike.optional(),
  sentinelone: sentinelone.optional(),
  googleWorkspace: googleWorkspace.optional(),
  dropbox: dropbox.optional(),
  servicenow: servicenow.optional(),
  elasticsearch: elasticsearch.optional(),
  splunk: splunk.optional(),
});

export type VendorsConfig = z.infer<typeof vendorsSection>;
export type VendorName = keyof VendorsConfig;
