import type { DebugLog } from '../debug.js';
import { openSigningIdentity, type IdentityOptions } from '../keys/identity.js';
import { prepareSession, requestCredentials, type SessionOptions } from '../rolesanywhere/session.js';
import type { HttpSend } from '../rolesanywhere/http.js';
import type { Credentials } from './types.js';

export interface ObtainOptions {
  readonly identity: IdentityOptions;
  readonly session: SessionOptions;
  readonly debug: DebugLog;
  readonly clock?: () => Date;
  readonly send?: HttpSend;
}

/**
 * One credential_process run: validate the request, open the key, sign, call CreateSession,
 * close the key. Flags are checked before the key is opened so a typo never costs a PIN entry.
 */
export async function obtainCredentialsOnce(options: ObtainOptions): Promise<Credentials> {
  const clock = options.clock ?? (() => new Date());
  const session = prepareSession(options.session, options.send);
  options.debug(`endpoint ${session.endpoint.url.origin}, region ${session.endpoint.region}`);
  const identity = await openSigningIdentity(options.identity, clock(), options.debug);
  try {
    const credentials = await requestCredentials(identity, session, { clock, debug: options.debug });
    options.debug(`credentials for access key ${credentials.accessKeyId}, expiring ${credentials.expiration.toISOString()}`);
    return credentials;
  } finally {
    await identity.close();
  }
}
