import type { DebugLog } from '../debug.js';
import { SignerError, isSignerError } from '../errors.js';
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
  /** On a service refusal, add a second line with the most likely local cause (credential-process). */
  readonly explainRefusal?: boolean;
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
    let credentials: Credentials;
    try {
      credentials = await requestCredentials(identity, session, { clock, debug: options.debug });
    } catch (error) {
      if (options.explainRefusal === true && isSignerError(error) && (error.code === 'CREATE_SESSION_DENIED' || error.code === 'CREATE_SESSION_NOT_FOUND')) {
        // From what was already loaded: no key use, so no PIN entry or touch.
        const { refusalHint } = await import('./refusal-hint.js');
        const hint = refusalHint(error.message, {
          certificate: identity.certificate,
          chain: identity.chain,
          region: session.endpoint.region,
          trustAnchorArn: options.session.trustAnchorArn,
          profileArn: options.session.profileArn,
          now: clock(),
        });
        if (hint !== undefined) throw new SignerError(error.code, error.message, { cause: error, hint });
      }
      throw error;
    }
    options.debug(`credentials for access key ${credentials.accessKeyId}, expiring ${credentials.expiration.toISOString()}`);
    return credentials;
  } finally {
    await identity.close();
  }
}
