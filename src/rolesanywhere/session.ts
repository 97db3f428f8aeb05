import { SignerError } from '../errors.js';
import type { DebugLog } from '../debug.js';
import type { Credentials } from './credentials.js';
import type { SigningIdentity } from '../keys/identity.js';
import { parseArn } from './arn.js';
import { resolveEndpoint, type ResolvedEndpoint } from './endpoint.js';
import { buildCreateSessionRequest, type CreateSessionHttpRequest, type CreateSessionParameters } from './request.js';
import { createSession, DEFAULT_DEADLINE_SECONDS } from './client.js';
import type { HttpOptions, HttpSend } from './http.js';

/** The CreateSession half of the configuration: what to ask for and where. */
export interface SessionOptions {
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly durationSeconds?: number;
  readonly roleSessionName?: string;
  readonly region?: string;
  readonly endpoint?: string;
  /** --no-verify-ssl */
  readonly insecureSkipVerify?: boolean;
  /** --with-proxy: honour HTTPS_PROXY/HTTP_PROXY/NO_PROXY (as the reference helper does). */
  readonly withProxy?: boolean;
  /** --timeout: seconds the whole CreateSession call may take, retries included (default 20). */
  readonly timeoutSeconds?: number;
}

/** A validated, ready-to-sign session request; reused for every refresh in long-running modes. */
export interface PreparedSession {
  readonly endpoint: ResolvedEndpoint;
  readonly request: CreateSessionHttpRequest;
  readonly send: HttpSend;
  /** The whole CreateSession call, retries included. */
  readonly deadlineMs: number;
  /** The account the trust anchor and profile were looked up in, for a 404's message. */
  readonly accountId?: string;
}

export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 43_200;
/** --timeout bounds: one second is too short to be meant; beyond five minutes an SDK has long given up. */
export const MIN_TIMEOUT_SECONDS = 1;
export const MAX_TIMEOUT_SECONDS = 300;

export const DEFAULT_DURATION_SECONDS = 3600;

/*
 * The rules of the request flags, one place for prepareSession and for doctor, which reports
 * them as check lines instead of stopping at the first.
 */

/** --session-duration: the service's bounds (FACTS.md section 1); the profile's own durationSeconds may cap it further. */
export function assertSessionDuration(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_DURATION_SECONDS || seconds > MAX_DURATION_SECONDS) {
    throw new SignerError('CONFIG_INVALID', `--session-duration ${seconds} is out of range: use whole seconds from ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`);
  }
}

/** --role-session-name: what STS accepts for a role session name (2 to 64 of [\w+=,.@-]). */
export function assertRoleSessionName(name: string): void {
  if (!/^[\w+=,.@-]{2,64}$/.test(name)) {
    throw new SignerError('CONFIG_INVALID', '--role-session-name must be 2 to 64 characters of letters, digits and _+=,.@-');
  }
}

/** --timeout */
export function assertTimeout(seconds: number): void {
  if (!Number.isFinite(seconds) || seconds < MIN_TIMEOUT_SECONDS || seconds > MAX_TIMEOUT_SECONDS) {
    throw new SignerError('CONFIG_INVALID', `--timeout ${seconds} is out of range: use seconds from ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS}`);
  }
}

/** Checks every flag CreateSession depends on, before any key is opened or PIN asked for. */
export function prepareSession(options: SessionOptions, send?: HttpSend): PreparedSession {
  const trustAnchor = parseArn(requireFlag(options.trustAnchorArn, '--trust-anchor-arn'), 'trust-anchor');
  const profile = parseArn(requireFlag(options.profileArn, '--profile-arn'), 'profile');
  const role = parseArn(requireFlag(options.roleArn, '--role-arn'), 'role');
  const durationSeconds = options.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  assertSessionDuration(durationSeconds);
  if (options.roleSessionName !== undefined) assertRoleSessionName(options.roleSessionName);
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_DEADLINE_SECONDS;
  assertTimeout(timeoutSeconds);
  const endpoint = resolveEndpoint({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    trustAnchor,
    profile,
  });
  const parameters: CreateSessionParameters = {
    trustAnchorArn: trustAnchor.arn,
    profileArn: profile.arn,
    roleArn: role.arn,
    durationSeconds,
    ...(options.roleSessionName !== undefined ? { roleSessionName: options.roleSessionName } : {}),
  };
  return {
    endpoint,
    request: buildCreateSessionRequest(endpoint, parameters),
    accountId: trustAnchor.accountId,
    send: send ?? lazyHttpSend({ insecureSkipVerify: options.insecureSkipVerify === true, useProxyFromEnvironment: options.withProxy === true }),
    deadlineMs: timeoutSeconds * 1000,
  };
}

/** Signs and sends one CreateSession (with retries) for an open identity. */
export async function requestCredentials(
  identity: SigningIdentity,
  session: PreparedSession,
  deps: { readonly clock: () => Date; readonly debug: DebugLog },
): Promise<Credentials> {
  // Loaded here, not at module level: a --cache hit validates the session but never signs.
  const [{ assertSignatureMatchesCertificate }, { signRequest }] = await Promise.all([import('../keys/match.js'), import('../sigv4x509/sign-request.js')]);
  return createSession({
    request: session.request,
    send: session.send,
    deadlineMs: session.deadlineMs,
    debug: deps.debug,
    clock: deps.clock,
    notFoundContext: `looked up in region ${session.endpoint.region}${session.accountId === undefined ? '' : `, account ${session.accountId}`}: check --trust-anchor-arn, --profile-arn and --region`,
    sign: async (request) => {
      const signed = await signRequest(request, {
        signer: identity.source,
        certificate: identity.certificate,
        chain: identity.chain,
        region: session.endpoint.region,
        signingDate: deps.clock(),
      });
      // The proof that key and certificate belong together, before anything leaves the machine.
      await assertSignatureMatchesCertificate(identity.source, identity.certificate, Buffer.from(signed.stringToSign, 'utf8'), signed.signature);
      deps.debug(`signed with ${signed.headers['authorization']?.split(' ')[0] ?? '?'} (verified against the certificate); signed headers ${signed.signedHeaders}`);
      return signed.headers;
    },
  });
}

/** The HTTP layer loads on the first request: a --cache hit validates the session and never sends. */
function lazyHttpSend(options: HttpOptions): HttpSend {
  let loaded: Promise<HttpSend> | undefined;
  return async (request) => {
    loaded ??= import('./http.js').then(({ createHttpSend }) => createHttpSend(options));
    return (await loaded)(request);
  };
}

function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new SignerError('USAGE', `${flag} is required`);
  return value;
}
