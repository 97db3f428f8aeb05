/**
 * A minimal STS: GetCallerIdentity (query protocol, form body) authenticated with SigV4 HMAC by
 * credentials this emulator issued. It proves end to end that issued credentials work with real
 * clients (`aws sts get-caller-identity --endpoint-url ...`). Comparisons of the session token
 * and the signature run in constant time over fixed-length digests.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createScope, getSigningKey } from '@smithy/signature-v4';
import {
  buildCanonicalRequest,
  buildStringToSign,
  clockSkewProblem,
  parseAmzDate,
  parseAuthorization,
  parseRawQuery,
  type ReceivedRequest,
} from './canonical-request.js';
import type { ResolvedEmulatorConfig } from './config.js';
import type { IssuedSession, SessionStore } from './sessions.js';
import { Sha256 } from './sha256.js';

export interface StsContext {
  readonly config: ResolvedEmulatorConfig;
  readonly sessions: SessionStore;
  readonly now: Date;
}

export interface StsOutcome {
  readonly status: number;
  readonly xml: string;
  /** The STS error code, or undefined on success. */
  readonly errorCode: string | undefined;
  /** One secret-free line for the log. */
  readonly summary: string;
}

interface StsError {
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';
  readonly code: string;
  readonly message: string;
  readonly detail: string;
}

const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const STS_VERSION = '2011-06-15';
const SIGNATURE_DOES_NOT_MATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVALID_TOKEN = 'The security token included in the request is invalid.';

export async function handleStsRequest(request: ReceivedRequest, context: StsContext): Promise<StsOutcome> {
  const requestId = randomUUID();
  const authenticated = await authenticate(request, context);
  if ('code' in authenticated) return errorOutcome(authenticated, requestId);

  const parameters = readParameters(request);
  const action = parameters.get('Action');
  if (action === undefined) {
    return errorOutcome({ status: 400, type: 'Sender', code: 'MissingAction', message: 'Missing Action', detail: 'no Action parameter' }, requestId);
  }
  const version = parameters.get('Version');
  if (action !== 'GetCallerIdentity' || (version !== undefined && version !== STS_VERSION)) {
    return errorOutcome(
      { status: 400, type: 'Sender', code: 'InvalidAction', message: `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`, detail: `unsupported action ${action}` },
      requestId,
    );
  }
  const session = authenticated;
  const xml =
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}">\n` +
    '  <GetCallerIdentityResult>\n' +
    `    <Arn>${escapeXml(session.assumedRoleArn)}</Arn>\n` +
    `    <UserId>${escapeXml(session.assumedRoleId)}</UserId>\n` +
    `    <Account>${escapeXml(session.accountId)}</Account>\n` +
    '  </GetCallerIdentityResult>\n' +
    '  <ResponseMetadata>\n' +
    `    <RequestId>${requestId}</RequestId>\n` +
    '  </ResponseMetadata>\n' +
    '</GetCallerIdentityResponse>\n';
  return { status: 200, xml, errorCode: undefined, summary: `accessKeyId=${session.accessKeyId} arn=${session.assumedRoleArn}` };
}

async function authenticate(request: ReceivedRequest, context: StsContext): Promise<IssuedSession | StsError> {
  const { config, now, sessions } = context;
  const header = request.headers['authorization'];
  if (header === undefined) {
    return { status: 403, type: 'Sender', code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token', detail: 'no Authorization header' };
  }
  const authorization = parseAuthorization(header);
  if (!authorization.ok) return incomplete(authorization.problem);
  const { algorithm, credential, signedHeaders, signature } = authorization.value;
  if (algorithm !== 'AWS4-HMAC-SHA256') return incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`);

  const amzDateText = request.headers['x-amz-date'];
  const amzDate = amzDateText === undefined ? undefined : parseAmzDate(amzDateText);
  if (amzDateText === undefined || amzDate === undefined) return incomplete('Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
  const skew = clockSkewProblem(amzDateText, amzDate, now);
  if (skew !== undefined) return { status: 403, type: 'Sender', code: 'SignatureDoesNotMatch', message: skew, detail: 'clock skew' };

  const scope = credential.split('/');
  const [accessKeyId = '', scopeDate = '', scopeRegion = '', scopeService = '', terminator = ''] = scope;
  if (scope.length !== 5 || terminator !== 'aws4_request' || scopeDate !== amzDateText.slice(0, 8)) {
    return incomplete(`Credential '${credential}' must have the form <access key id>/<date of X-Amz-Date>/<region>/sts/aws4_request.`);
  }
  if (scopeService !== 'sts') {
    return { status: 403, type: 'Sender', code: 'SignatureDoesNotMatch', message: "Credential should be scoped to correct service: 'sts'. ", detail: `scope service ${scopeService}` };
  }
  // The global endpoint signs for us-east-1; a regional one for its own region.
  if (scopeRegion !== config.region && scopeRegion !== 'us-east-1') {
    return { status: 403, type: 'Sender', code: 'SignatureDoesNotMatch', message: `Credential should be scoped to a valid region, not '${scopeRegion}'. `, detail: `scope region ${scopeRegion}` };
  }
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) return incomplete(`'${required}' must be a 'SignedHeader' in the AWS Authorization.`);
  }

  const session = sessions.find(accessKeyId);
  const presentedToken = request.headers['x-amz-security-token'] ?? '';
  // Look-up by key id is not secret; the token check is, hence digests and timingSafeEqual.
  if (session === undefined || !equalSecrets(presentedToken, session.sessionToken)) {
    return { status: 403, type: 'Sender', code: 'InvalidClientTokenId', message: INVALID_TOKEN, detail: `unknown access key or session token for ${accessKeyId}` };
  }
  if (now.getTime() >= session.expiresAt.getTime()) {
    return { status: 400, type: 'Sender', code: 'ExpiredToken', message: 'The security token included in the request is expired', detail: `${accessKeyId} expired` };
  }

  const query = parseRawQuery(request.rawQuery);
  if (!query.ok) return incomplete(query.problem);
  const canonical = await buildCanonicalRequest(request, query.value, signedHeaders);
  if (!canonical.ok) return { status: 403, type: 'Sender', code: 'SignatureDoesNotMatch', message: SIGNATURE_DOES_NOT_MATCH, detail: canonical.problem };
  const stringToSign = buildStringToSign(algorithm, amzDateText, createScope(scopeDate, scopeRegion, scopeService), canonical.text);
  const signingKey = await getSigningKey(
    Sha256,
    { accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken },
    scopeDate,
    scopeRegion,
    scopeService,
  );
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (!equalSecrets(signature.toLowerCase(), expected)) {
    return { status: 403, type: 'Sender', code: 'SignatureDoesNotMatch', message: SIGNATURE_DOES_NOT_MATCH, detail: `signature mismatch for ${accessKeyId}` };
  }
  return session;
}

/** Parameters from the form body and the query (the query protocol accepts both). */
function readParameters(request: ReceivedRequest): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const source of [request.rawQuery, Buffer.from(request.body).toString('utf8')]) {
    for (const [name, value] of new URLSearchParams(source)) parameters.set(name, value);
  }
  return parameters;
}

/** Constant-time equality of two secrets of any length: compare their SHA-256 digests. */
function equalSecrets(presented: string, expected: string): boolean {
  const presentedDigest = createHash('sha256').update(presented).digest();
  const expectedDigest = createHash('sha256').update(expected).digest();
  return timingSafeEqual(presentedDigest, expectedDigest);
}

function incomplete(message: string): StsError {
  return { status: 400, type: 'Sender', code: 'IncompleteSignature', message, detail: message };
}

function errorOutcome(error: StsError, requestId: string): StsOutcome {
  const xml =
    `<ErrorResponse xmlns="${STS_NAMESPACE}">\n` +
    '  <Error>\n' +
    `    <Type>${error.type}</Type>\n` +
    `    <Code>${error.code}</Code>\n` +
    `    <Message>${escapeXml(error.message)}</Message>\n` +
    '  </Error>\n' +
    `  <RequestId>${requestId}</RequestId>\n` +
    '</ErrorResponse>\n';
  return { status: error.status, xml, errorCode: error.code, summary: `${error.code}: ${error.detail}` };
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
