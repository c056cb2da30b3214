/** Maps the alert's user name to a provider's account key, e.g. "{user}@acme.com" turns "jdoe" into "jdoe@acme.com". */
import { ConnectorConfigurationError } from './errors';

export function accountKey(provider: string, template: string, user: string): string {
  // Only plain account names: a slash, query or fragment in a user name must never reach a vendor URL path.
  if (!/^[A-Za-z0-9._@+-]{1,256}$/.test(user)) {
    throw new ConnectorConfigurationError(provider, `refusing to act on the account name "${user}"`);
  }
  return template.replaceAll('{user}', user);
}
