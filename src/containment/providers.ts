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

const entraTokenUrl = (tenantId: string) => `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;

function missing(key: string): never {
  // The config schema already refuses this; a programming error if reached.
  throw new Error(`connectors.containment.${key} is not configured`);
}

export function createContainmentProviders(config: Config): ContainmentProviders {
  const { isolation, access, requestTimeout } = config.connectors.containment;
  const dryRun = new DryRunContainment(path.resolve(config.dataDir));
  const timing = { pollIntervalMs: isolation.pollInterval, verifyTimeoutMs: isolation.verifyTimeout };
  const timeoutMs = requestTimeout;

  let isolator: EndpointIsolationProvider;
  switch (isolation.provider) {
    case 'dry-run':
      isolator = dryRun.isolation;
      break;
    case 'crowdstrike': {
      const c = isolation.crowdstrike ?? missing('isolation.crowdstrike');
      isolator = new CrowdStrikeIsolation({ ...c, timing, timeoutMs });
      break;
    }
    case 'microsoft-defender': {
      const c = isolation.microsoftDefender ?? missing('isolation.microsoftDefender');
      isolator = new DefenderIsolation({ ...c, tokenUrl: c.tokenUrl ?? entraTokenUrl(c.tenantId), timing, timeoutMs });
      break;
    }
    case 'sentinelone': {
      const c = isolation.sentinelone ?? missing('isolation.sentinelone');
      isolator = new SentinelOneIsolation({ ...c, timing, timeoutMs });
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
        const c = access.microsoftGraph ?? missing('access.microsoftGraph');
        accessProviders[name] = new GraphSessionRevocation({ ...c, tokenUrl: c.tokenUrl ?? entraTokenUrl(c.tenantId), timeoutMs });
        break;
      }
      case 'okta': {
        const c = access.okta ?? missing('access.okta');
        accessProviders[name] = new OktaSessionRevocation({ ...c, timeoutMs });
        break;
      }
      case 'google-workspace': {
        const c = access.googleWorkspace ?? missing('access.googleWorkspace');
        accessProviders[name] = new GoogleSignOut({
          baseUrl: c.baseUrl,
          serviceAccountKeyJson: c.serviceAccountKey,
          subject: c.subject,
          userTemplate: c.userTemplate,
          ...(c.tokenUri ? { tokenUri: c.tokenUri } : {}),
          timeoutMs,
        });
        break;
      }
      case 'dropbox': {
        const c = access.dropbox ?? missing('access.dropbox');
        accessProviders[name] = new DropboxMemberSuspension({ ...c, timeoutMs });
        break;
      }
    }
  }
  return { isolation: { [isolator.name]: isolator }, access: accessProviders };
}
