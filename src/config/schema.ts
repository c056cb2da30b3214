/** The whole configuration: the sections, the rules that span sections, and the defaults derived from `dataDir`. */
import path from 'node:path';
import { z } from 'zod';
import { INGEST_SOURCES, resolveSourceAuth } from '../ingest/config';
import { auditSection } from './audit';
import { containmentSection, PROVIDER_VENDORS } from './containment';
import { ENRICHMENT_VENDORS, enrichmentSection } from './enrichment';
import { httpSection, isLoopback } from './http';
import { identitySection } from './identity';
import { ingestSection } from './ingest';
import { logSection, metricsSection } from './observability';
import { playbookSection } from './playbook';
import { slackSection } from './slack';
import { temporalSection } from './temporal';
import { vendorsSection } from './vendors';

const sections = z.strictObject({
  temporal: temporalSection.prefault({}),
  http: httpSection.prefault({}),
  /** SIEM ingestion: per-source authentication and the deduplication window. */
  ingest: ingestSection.prefault({}),
  playbook: playbookSection,
  /** The organisation's domains and NetBIOS names: which account forms name the same person. */
  identity: identitySection.prefault({}),
  vendors: vendorsSection.prefault({}),
  enrichment: enrichmentSection.prefault({}),
  containment: containmentSection.prefault({}),
  slack: slackSection.optional(),
  /** Local state: the dry-run ledger, reports, the payload key ring, the audit file. */
  dataDir: z.string().default('.data'),
  log: logSection.prefault({}),
  audit: auditSection.prefault({}),
  metrics: metricsSection.prefault({}),
});

type Sections = z.infer<typeof sections>;
type Ctx = z.RefinementCtx;

/** Every capability names a vendor; that vendor's block must be there. */
function checkVendorsNamed(cfg: Sections, ctx: Ctx): void {
  const need = (vendor: keyof Sections['vendors'], because: string) => {
    if (!cfg.vendors[vendor]) ctx.addIssue({ code: 'custom', path: ['vendors', vendor], message: `required when ${because}` });
  };
  for (const capability of ['hr', 'changes', 'devices', 'baselines'] as const) {
    const source = cfg.enrichment[capability].source;
    if (source !== 'file') need(ENRICHMENT_VENDORS[source], `enrichment.${capability}.source is ${source}`);
  }
  if (cfg.enrichment.baselines.source === 'elasticsearch' && cfg.vendors.elasticsearch && !cfg.vendors.elasticsearch.apiKey) {
    ctx.addIssue({
      code: 'custom',
      path: ['vendors', 'elasticsearch', 'apiKey'],
      message: 'required when enrichment.baselines.source is elasticsearch',
    });
  }
  const iso = cfg.containment.isolation.provider;
  if (iso !== 'dry-run') need(PROVIDER_VENDORS[iso], `containment.isolation.provider is ${iso}`);
  for (const p of new Set(cfg.containment.access.providers)) {
    if (p !== 'dry-run') need(PROVIDER_VENDORS[p], `containment.access.providers lists ${p}`);
  }
  if (cfg.containment.access.providers.includes('okta') && cfg.vendors.okta && cfg.vendors.okta.auth.type !== 'ssws') {
    ctx.addIssue({
      code: 'custom',
      path: ['vendors', 'okta', 'auth', 'type'],
      message: 'must be ssws when containment.access.providers lists okta (session revocation needs an admin API token)',
    });
  }
  const forward = cfg.audit.forward;
  if (forward) need(forward.to, `audit.forward.to is ${forward.to}`);
}

/** Nothing listens unauthenticated off loopback; the dev server and the approval deadline stay consistent. */
function checkExposure(cfg: Sections, ctx: Ctx): void {
  if (cfg.playbook.approvalDeadline !== undefined && cfg.playbook.approvalDeadline < cfg.playbook.approvalTimeout) {
    ctx.addIssue({
      code: 'custom',
      path: ['playbook', 'approvalDeadline'],
      message: 'must not be earlier than playbook.approvalTimeout (the window after which the request escalates)',
    });
  }
  if (cfg.temporal.devServer.enabled && !isLoopback(cfg.temporal.address.split(':')[0] ?? '')) {
    ctx.addIssue({
      code: 'custom',
      path: ['temporal', 'devServer', 'enabled'],
      message: 'the embedded dev server listens on loopback only; set temporal.address to 127.0.0.1:<port> or disable it',
    });
  }
  if (isLoopback(cfg.http.host)) return;
  // Every SIEM route must authenticate off loopback: its own `ingest.sources.<name>.auth`, or the shared
  // `http.webhookTokens` as bearer tokens. Explicit `none` is refused too.
  let sharedReported = false;
  for (const source of INGEST_SOURCES) {
    if (resolveSourceAuth(cfg, source).type !== 'none') continue;
    const explicit = cfg.ingest.sources[source] !== undefined;
    if (!explicit && sharedReported) continue;
    sharedReported ||= !explicit;
    ctx.addIssue({
      code: 'custom',
      path: explicit ? ['ingest', 'sources', source, 'auth'] : ['http', 'webhookTokens'],
      message: explicit
        ? `"none" is only allowed when http.host is a loopback address (it is ${cfg.http.host})`
        : `required when http.host (${cfg.http.host}) is not a loopback address: nothing is unauthenticated on a network (or set ingest.sources.${source}.auth)`,
    });
  }
  for (const key of ['apiTokens', 'metricsTokens'] as const) {
    if (cfg.http[key].length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['http', key],
        message: `required when http.host (${cfg.http.host}) is not a loopback address: nothing is unauthenticated on a network`,
      });
    }
  }
}

export const configSchema = sections
  .superRefine((cfg, ctx) => {
    checkExposure(cfg, ctx);
    checkVendorsNamed(cfg, ctx);
  })
  .transform((cfg) => ({
    ...cfg,
    temporal: {
      ...cfg.temporal,
      payloadCodec: {
        ...cfg.temporal.payloadCodec,
        keyFile: cfg.temporal.payloadCodec.keyFile ?? path.join(cfg.dataDir, 'payload-codec.keys'),
      },
    },
    audit: { ...cfg.audit, file: cfg.audit.file ?? path.join(cfg.dataDir, 'audit', 'audit.jsonl') },
  }));

export type Config = z.infer<typeof configSchema>;
