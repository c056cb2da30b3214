/** Builds the containment providers the configuration selects: one isolation provider, one or more access providers. */
import path from 'node:path';
import type { ContainmentProviders } from '../../activities';
import type { Config } from '../config';
import type { AccessRevocationProvider, EndpointIsolationProvider } from '../contracts/ports';
import { CrowdStrikeIsolation } from '../connectors/crowdstrike/isolation';
import { DropboxMemberSuspension } from '../connectors/dropbox/members';
import { DryRunContainment } from '../connectors/dry-run/client';
import { GoogleSignOut } from '../connectors/google-workspace/sessions';
import { GraphSessionRevocation } from '../connectors/microsoft-graph/sessions';
import { DefenderIsolation } from '../connectors/microsoft-defender/isolation';
import { OktaSessionRevocation } from '../connectors/okta/sessions';
import { SentinelOneIsolation } from '../connectors/sentinelone/isolation';

/** The Entra ID token endpoint: the configured one, or the authority's for the tenant. */
export function entraTokenUrl(entra: { authorityUrl: string; tenantId: string; tokenUrl?: string | undefined }): string {
  return entra.tokenUrl ?? `${new URL(entra.authorityUrl).origin}/${encodeURIComponent(entra.tenantId)}/oauth2/v2.0/token`;
}

function missing(key: string): never {
  // The config schema already refuses this; a programming error if reached.
  throw new Error(`vendors.${key} is not configured`);
}

export function createContainmentProviders(config: Config): ContainmentProviders {
  const { isolation, access } = config.containment;
  const vendors = config.vendors;
  const dryRun = new DryRunContainment(path.resolve(config.dataDir));
  const timing = { pollIntervalMs: isolation.pollInterval, verifyTimeoutMs: isolation.verifyTimeout };

  let isolator: EndpointIsolationProvider;
  switch (isolation.provider) {
    case 'dry-run':
      isolator = dryRun.isolation;
      break;
    case 'crowdstrike': {
      const { requestTimeout, ...c } = vendors.crowdstrike ?? missing('crowdstrike');
      isolator = new CrowdStrikeIsolation({ ...c, timing, timeoutMs: requestTimeout });
      break;
    }
    case 'microsoft-defender': {
      const entra = vendors.microsoftEntra ?? missing('microsoftEntra');
      isolator = new DefenderIsolation({
        clientId: entra.clientId,
        clientSecret: entra.clientSecret,
        tokenUrl: entraTokenUrl(entra),
        baseUrl: entra.defenderUrl,
        scope: entra.defenderScope,
        isolationType: isolation.microsoftDefender.isolationType,
        timing,
        timeoutMs: entra.requestTimeout,
      });
      break;
    }
    case 'sentinelone': {
      const { requestTimeout, ...c } = vendors.sentinelone ?? missing('sentinelone');
      isolator = new SentinelOneIsolation({ ...c, timing, timeoutMs: requestTimeout });
      break;
    }
  }

  const accessProviders: Record<string, AccessRevocationProvider> = {};
  for (const name of access.providers) {
    switch (name) {
      case 'dry-run':
        accessProviders[name] = dryRun.access;
        break;
      case 'microsoft-graph': {
        const entra = vendors.microsoftEntra ?? missing('microsoftEntra');
        accessProviders[name] = new GraphSessionRevocation({
          clientId: entra.clientId,
          clientSecret: entra.clientSecret,
          tokenUrl: entraTokenUrl(entra),
          baseUrl: entra.graphUrl,
          userTemplate: access.microsoftGraph.userTemplate,
          timeoutMs: entra.requestTimeout,
        });
        break;
      }
      case 'okta': {
        const okta = vendors.okta ?? missing('okta');
        accessProviders[name] = new OktaSessionRevocation({
          orgUrl: okta.orgUrl,
          apiToken: okta.auth.token,
          userTemplate: access.okta.userTemplate,
          ...(access.okta.unassignAppId ? { unassignAppId: access.okta.unassignAppId } : {}),
          timeoutMs: okta.requestTimeout,
        });
        break;
      }
      case 'google-workspace': {
        const google = vendors.googleWorkspace ?? missing('googleWorkspace');
        accessProviders[name] = new GoogleSignOut({
          baseUrl: google.baseUrl,
          serviceAccountKeyJson: google.serviceAccountKey,
          subject: google.subject,
          userTemplate: access.googleWorkspace.userTemplate,
          ...(google.tokenUri ? { tokenUri: google.tokenUri } : {}),
          timeoutMs: google.requestTimeout,
        });
        break;
      }
      case 'dropbox': {
        const dropbox = vendors.dropbox ?? missing('dropbox');
        accessProviders[name] = new DropboxMemberSuspension({
          baseUrl: dropbox.baseUrl,
          accessToken: dropbox.accessToken,
          userTemplate: access.dropbox.userTemplate,
          timeoutMs: dropbox.requestTimeout,
        });
        break;
      }
    }
  }
  return { isolation: { [isolator.name]: isolator }, access: accessProviders };
}
