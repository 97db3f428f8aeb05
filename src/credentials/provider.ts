import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { isSignerError, type SignerErrorCode } from '../errors.js';
import { silent, type DebugLog } from '../debug.js';
import { openSigningIdentity, type IdentityOptions, type SigningIdentity } from '../keys/identity.js';
import { AUTHENTICATION_FAILURE_CODES, DEVICE_LOST_CODES } from '../keys/registry.js';
import { prepareSession, requestCredentials, type PreparedSession, type SessionOptions } from '../rolesanywhere/session.js';
import type { HttpSend } from '../rolesanywhere/http.js';
import { parseArn } from '../rolesanywhere/arn.js';
import { createRefresher, type RefresherOptions } from './refresher.js';
import type { Credentials } from './types.js';

/**
 * The key, opened once and kept open (one PIN entry, one login) for every later CreateSession
 * of a long-running mode. Used by `serve`, `update` and `fromRolesAnywhere`.
 */
export interface CredentialSource {
  /** Signs and sends one CreateSession; opens the key on first use. */
  fetch(): Promise<Credentials>;
  close(): Promise<void>;
}

export interface CredentialSourceOptions {
  readonly identity: IdentityOptions;
  readonly session: PreparedSession;
  readonly clock: () => Date;
  readonly debug: DebugLog;
}

/**
 * Errors that retrying cannot fix and that could lock a card or a TPM if retried: each key
 * source's authentication failures (its descriptor lists them), plus a secret that could not be
 * read at all. A wrong PIN or password is never tried again; every later fetch repeats the error.
 */
const STICKY_OPEN_ERRORS: ReadonlySet<SignerErrorCode> = new Set<SignerErrorCode>([
  ...AUTHENTICATION_FAILURE_CODES,
  'SECRET_UNAVAILABLE',
  'SECRET_SOURCE_INVALID',
]);

/** The device went away (a YubiKey unplugged, a TPM socket closed): reopen on the next attempt. */
const REOPEN_ERRORS = DEVICE_LOST_CODES;

export function createCredentialSource(options: CredentialSourceOptions): CredentialSource {
  let identity: Promise<SigningIdentity> | undefined;
  let stickyError: unknown;

  const open = (): Promise<SigningIdentity> => {
    if (stickyError !== undefined) return Promise.reject(stickyError);
    identity ??= openSigningIdentity(options.identity, options.clock(), options.debug).catch((error: unknown) => {
      identity = undefined;
      if (isSignerError(error) && STICKY_OPEN_ERRORS.has(error.code)) stickyError = error;
      throw error;
    });
    return identity;
  };

  return {
    async fetch() {
      const opened = await open();
      try {
        return await requestCredentials(opened, options.session, { clock: options.clock, debug: options.debug });
      } catch (error) {
        if (isSignerError(error) && REOPEN_ERRORS.has(error.code)) {
          options.debug(`key source failed (${error.code}); it will be reopened on the next attempt`);
          identity = undefined;
          await opened.close().catch(() => {});
        }
        throw error;
      }
    },
    async close() {
      const opened = identity;
      identity = undefined;
      if (opened !== undefined) await (await opened.catch(() => undefined))?.close();
    },
  };
}

/**
 * Options of `fromRolesAnywhere`: the same as the CLI's flags, in camelCase.
 *
 * Key: `certificate` (a PEM/DER file, a PKCS#12 file, or a pkcs11: URI), `privateKey` (a key
 * file, a pkcs11: URI, `handle:0x81000001` or a TSS2 key file), `intermediates`, `pkcs11Lib`,
 * `reusePin`, `noTpmKeyPassword`, `tpmTcti`, `touchNotice` (told when a signature waits for a
 * touch), and where secrets come from: `pin`, `pkcs8Password`, `tpmKeyPassword`, each
 * `{ value }`, `{ source: 'file:/path' | '|command' }` or `{ envVar: 'NAME' }`.
 * Session: `trustAnchorArn`, `profileArn`, `roleArn` (required), `region`, `endpoint`,
 * `durationSeconds` (default 3600), `roleSessionName`, `withProxy`, `insecureSkipVerify`,
 * `timeoutSeconds` (the whole CreateSession call, retries included; default 20, as `--timeout`).
 */
export interface RolesAnywhereProviderOptions extends IdentityOptions, SessionOptions {
  /** Secret-free progress lines; default silent. */
  readonly debug?: (line: string) => void;
  /** For tests; defaults to the system clock. */
  readonly clock?: () => Date;
  /** For tests; defaults to node:http(s) (through a CONNECT tunnel with `withProxy`) with the options above. */
  readonly send?: HttpSend;
  /** Tuning of the refresh schedule (refresh-ahead, intervals); defaults suit most uses. */
  readonly refresh?: Pick<RefresherOptions, 'refreshAheadMs' | 'jitterMs' | 'minIntervalMs' | 'maxBackoffMs' | 'usableMarginMs'>;
}

/** An SDK credential provider that also releases the key (logs out of the token) on `close`. */
export interface RolesAnywhereCredentialProvider extends AwsCredentialIdentityProvider {
  close(): Promise<void>;
}

/** The JS SDK v3 refreshes credentials that expire within 5 minutes. */
const SDK_EXPIRY_WINDOW_MS = 5 * 60_000;

/**
 * A credential provider for the AWS SDK for JavaScript v3.
 *
 * The flags are checked at once (a typo in an ARN throws here, before any PIN is asked for);
 * the key is opened on the first call and stays open. Credentials come back with `expiration`
 * and `accountId` set. Within the SDK's 5-minute window a call waits for the one refresh in
 * flight; if that refresh fails while the old credentials still work, they are returned.
 * Without usable credentials a call rejects with the error of the last attempt (its own code:
 * NETWORK_ERROR, CREATE_SESSION_DENIED, KEY_PASSWORD_INCORRECT ...); attempts are spaced (10 s,
 * doubling), and wrong PINs or passwords are never retried: later calls repeat the same error.
 *
 * @example
 * ```ts
 * import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
 * import { fromRolesAnywhere } from 'roles-anywhere-signer';
 *
 * const credentials = fromRolesAnywhere({
 *   certificate: '/etc/pki/client.pem',
 *   privateKey: 'pkcs11:token=YubiKey%20PIV%20%2312345678;object=Private%20key%20for%20PIV%20Authentication',
 *   pin: { envVar: 'ROLES_ANYWHERE_PIN' },
 *   trustAnchorArn: 'arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/...',
 *   profileArn: 'arn:aws:rolesanywhere:eu-west-1:123456789012:profile/...',
 *   roleArn: 'arn:aws:iam::123456789012:role/app',
 * });
 * const sts = new STSClient({ region: 'eu-west-1', credentials });
 * console.log(await sts.send(new GetCallerIdentityCommand({})));
 * await credentials.close();
 * ```
 */
export function fromRolesAnywhere(options: RolesAnywhereProviderOptions): RolesAnywhereCredentialProvider {
  const clock = options.clock ?? (() => new Date());
  const debug = options.debug ?? silent;
  const session = prepareSession(options, options.send);
  const accountId = parseArn(options.roleArn, 'role').accountId;
  const source = createCredentialSource({ identity: options, session, clock, debug });
  const refresher = createRefresher({ ...options.refresh, fetch: () => source.fetch(), clock, background: false });

  const provide = async (): Promise<AwsCredentialIdentity> => {
    let snapshot = await refresher.get().catch((error: unknown) => {
      // A library caller is better served by the cause (KEY_PASSWORD_INCORRECT, NETWORK_ERROR,
      // CREATE_SESSION_DENIED ...) than by the endpoint-style CREDENTIALS_UNAVAILABLE wrapper.
      throw isSignerError(error, 'CREDENTIALS_UNAVAILABLE') && isSignerError(error.cause) ? error.cause : error;
    });
    if (snapshot.credentials.expiration.getTime() - clock().getTime() < SDK_EXPIRY_WINDOW_MS) {
      await refresher.refreshNow();
      snapshot = refresher.current() ?? snapshot;
    }
    const { credentials } = snapshot;
    return {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration,
      accountId,
    };
  };
  return Object.assign(provide, {
    async close() {
      await refresher.stop();
      await source.close();
    },
  });
}
