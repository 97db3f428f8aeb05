/**
 * CreateSession, verified the way IAM Roles Anywhere does it: authenticate the SigV4-X509
 * signature against the leaf in X-Amz-X509, validate the chain to the named trust anchor,
 * apply the certificate rules, then authorise against the profile and issue credentials.
 *
 * Rejections carry the service's error type and message, plus an emulator-only `reason` code
 * and `detail` line (sent as x-emulator-reason and logged) because the service's own messages
 * ("Untrusted Signing Certificate") do not say which rule failed.
 */
import { createHash, createPublicKey, verify as verifySignature, constants as cryptoConstants } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { createScope } from '@smithy/signature-v4';
import { inspectCertificate, type CertificateProfile } from '../certs/rules.js';
import { memoizedByDer } from './by-der.js';
import type { KeyType } from '../sigv4x509/types.js';
import {
  buildCanonicalRequest,
  buildStringToSign,
  clockSkewProblem,
  parseAmzDate,
  parseAuthorization,
  parseRawQuery,
  type CanonicalRequestFailure,
  type ReceivedRequest,
} from './canonical-request.js';
import { parseRoleArn, parseRolesAnywhereArn, type ResolvedEmulatorConfig } from './config.js';
import { loadMlDsaVerifier, mlDsaNameOfOid, type MlDsaVerifier } from './mldsa.js';
import { validateCertificatePath, type PathFailureReason } from './path-validation.js';
import type { IssuedSession, SessionStore } from './sessions.js';

export type ServiceErrorType = 'AccessDeniedException' | 'ValidationException' | 'ResourceNotFoundException';

/**
 * Which check refused a request: stable for tests and scripts (x-emulator-reason). The codes of
 * the request canonicalization and of path validation are included as they come.
 */
export type RejectionReason =
  | 'ALGORITHM_KEY_MISMATCH'
  | 'ALGORITHM_UNSUPPORTED'
  | 'AUTHORIZATION_MALFORMED'
  | 'AUTHORIZATION_MISSING'
  | 'BODY_MALFORMED'
  | 'CERTIFICATE_MISSING'
  | 'CERTIFICATE_UNPARSABLE'
  | 'CHAIN_TOO_LONG'
  | 'CHAIN_UNPARSABLE'
  | 'CLOCK_SKEW'
  | 'CREDENTIAL_DATE_MISMATCH'
  | 'CREDENTIAL_MALFORMED'
  | 'CREDENTIAL_REGION_MISMATCH'
  | 'CREDENTIAL_SERIAL_MISMATCH'
  | 'CREDENTIAL_SERVICE_MISMATCH'
  | 'DATE_MALFORMED'
  | 'DATE_MISSING'
  | 'DURATION_EXCEEDS_ROLE_MAXIMUM'
  | 'ML_DSA_UNAVAILABLE'
  | 'PARAMETER_CONFLICT'
  | 'PARAMETER_INVALID'
  | 'PROFILE_DISABLED'
  | 'PROFILE_NOT_FOUND'
  | 'QUERY_MALFORMED'
  | 'REGION_MISMATCH'
  | 'ROLE_NOT_IN_PROFILE'
  | 'ROLE_SESSION_NAME_NOT_ALLOWED'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_MISMATCH'
  | 'SIGNATURE_PARAMETER_SET_MISMATCH'
  | 'SIGNED_HEADERS_INCOMPLETE'
  | 'TRUST_ANCHOR_DISABLED'
  | 'TRUST_ANCHOR_NOT_FOUND'
  | CanonicalRequestFailure
  | PathFailureReason;

export interface Rejection {
  readonly status: 400 | 403 | 404;
  readonly type: ServiceErrorType;
  /** Exactly what the service would put in the JSON `message`. */
  readonly message: string;
  /** Emulator-only: which check failed, stable for tests and scripts. */
  readonly reason: RejectionReason;
  /** Emulator-only: one secret-free line for the log. */
  readonly detail: string;
}

export interface CreateSessionResponseBody {
  readonly credentialSet: ReadonlyArray<{
    readonly assumedRoleUser: { readonly arn: string; readonly assumedRoleId: string };
    readonly credentials: {
      readonly accessKeyId: string;
      readonly secretAccessKey: string;
      readonly sessionToken: string;
      readonly expiration: string;
    };
    readonly packedPolicySize: number;
    readonly roleArn: string;
    readonly sourceIdentity: string;
  }>;
  readonly subjectArn: string;
}

export type CreateSessionOutcome =
  | { readonly ok: true; readonly body: CreateSessionResponseBody; readonly session: IssuedSession; readonly summary: string }
  | { readonly ok: false; readonly rejection: Rejection };

export interface CreateSessionContext {
  readonly config: ResolvedEmulatorConfig;
  readonly sessions: SessionStore;
  readonly now: Date;
}

const MAX_CHAIN_CERTIFICATES = 5;
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43200;
const DEFAULT_DURATION_SECONDS = 3600;
const SOURCE_IDENTITY_MAX_CN = 61;

const ALGORITHM_KEY_TYPES: Readonly<Record<string, KeyType>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, KeyType>, {
    'AWS4-X509-RSA-SHA256': 'RSA',
    'AWS4-X509-ECDSA-SHA256': 'EC',
    'AWS4-X509-MLDSA': 'ML-DSA',
  }),
);

/** FIPS 204 table 2: a signature of another length was made with another parameter set. */
const ML_DSA_SIGNATURE_BYTES: Readonly<Record<string, number>> = Object.freeze({ 'ML-DSA-44': 2420, 'ML-DSA-65': 3309, 'ML-DSA-87': 4627 });

const UNTRUSTED = 'Untrusted Signing Certificate';
const INVALID_SIGNATURE = 'Invalid signature';

interface AuthenticatedRequest {
  readonly leafDer: Uint8Array;
  /** Parsed once here; authorize reads the subject from it. */
  readonly leafCertificate: Certificate;
  readonly leafProfile: CertificateProfile;
  readonly chainDers: readonly Uint8Array[];
  readonly serial: bigint;
  readonly query: Record<string, string | string[]>;
  /** Loaded when the request is ML-DSA-signed; reused for the certificate path. */
  readonly mlDsaVerifier: MlDsaVerifier | undefined;
}

interface SessionParameters {
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
  readonly durationSeconds: number;
  readonly roleSessionName: string | undefined;
}

export async function handleCreateSession(request: ReceivedRequest, context: CreateSessionContext): Promise<CreateSessionOutcome> {
  const authenticated = await authenticate(request, context);
  if ('rejection' in authenticated) return { ok: false, rejection: authenticated.rejection };

  const parameters = readParameters(request, authenticated.query);
  if ('rejection' in parameters) return { ok: false, rejection: parameters.rejection };

  // Loaded only when an ML-DSA signature is in play (request or any certificate).
  const mlDsaVerifier = authenticated.mlDsaVerifier ?? (involvesMlDsa([authenticated.leafDer, ...authenticated.chainDers], context, parameters.trustAnchorArn) ? await loadMlDsaVerifier() : undefined);
  return authorize(authenticated, parameters, context, mlDsaVerifier);
}

const parseCertificate = memoizedByDer((der) => AsnConvert.parse(der, Certificate));
const inspectCertificateOnce = memoizedByDer(inspectCertificate);

function involvesMlDsa(requestDers: readonly Uint8Array[], context: CreateSessionContext, trustAnchorArn: string): boolean {
  const anchors = context.config.trustAnchors.get(trustAnchorArn)?.certificates ?? [];
  return [...requestDers, ...anchors].some((der) => {
    try {
      const certificate = parseCertificate(der);
      return mlDsaNameOfOid(certificate.signatureAlgorithm.algorithm) !== undefined
        || mlDsaNameOfOid(certificate.tbsCertificate.subjectPublicKeyInfo.algorithm.algorithm) !== undefined;
    } catch {
      return false;
    }
  });
}

async function authenticate(request: ReceivedRequest, context: CreateSessionContext): Promise<AuthenticatedRequest | { rejection: Rejection }> {
  const { config, now } = context;
  const header = request.headers['authorization'];
  if (header === undefined) return deny('AUTHORIZATION_MISSING', 'Missing Authentication Token', 'the request has no Authorization header');
  const authorization = parseAuthorization(header);
  if (!authorization.ok) return deny('AUTHORIZATION_MALFORMED', authorization.problem, authorization.problem);
  const { algorithm, credential, signedHeaders, signature } = authorization.value;

  const algorithmKeyType = ALGORITHM_KEY_TYPES[algorithm];
  if (algorithmKeyType === undefined) {
    return deny('ALGORITHM_UNSUPPORTED', `Unsupported signing algorithm '${algorithm}'.`, `algorithm ${algorithm} is none of ${Object.keys(ALGORITHM_KEY_TYPES).join(', ')}`);
  }

  const amzDateText = request.headers['x-amz-date'];
  if (amzDateText === undefined) return deny('DATE_MISSING', 'Missing X-Amz-Date header.', 'X-Amz-Date is required (the Date header is not accepted)');
  const amzDate = parseAmzDate(amzDateText);
  if (amzDate === undefined) return deny('DATE_MALFORMED', `Invalid X-Amz-Date '${amzDateText}'; expected YYYYMMDDTHHMMSSZ.`, 'X-Amz-Date is not ISO 8601 basic format');
  const skew = clockSkewProblem(amzDateText, amzDate, now);
  if (skew !== undefined) return deny('CLOCK_SKEW', skew, skew);

  const scope = credential.split('/');
  const [serialText = '', scopeDate = '', scopeRegion = '', scopeService = '', terminator = ''] = scope;
  if (scope.length !== 5 || !/^\d+$/.test(serialText)) {
    return deny('CREDENTIAL_MALFORMED', 'Credential must have the form <certificate serial>/<date>/<region>/rolesanywhere/aws4_request.', `Credential '${credential}' is malformed`);
  }
  if (scopeDate !== amzDateText.slice(0, 8)) {
    const message = `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDateText.slice(0, 8)}', from 'x-amz-date'.`;
    return deny('CREDENTIAL_DATE_MISMATCH', message, message);
  }
  if (scopeRegion !== config.region) {
    return deny('CREDENTIAL_REGION_MISMATCH', `Credential should be scoped to a valid region, not '${scopeRegion}'.`, `the scope's region ${scopeRegion} is not the emulator's region ${config.region}`);
  }
  if (scopeService !== 'rolesanywhere') {
    return deny('CREDENTIAL_SERVICE_MISMATCH', "Credential should be scoped to correct service: 'rolesanywhere'.", `the scope's service is '${scopeService}'`);
  }
  if (terminator !== 'aws4_request') {
    return deny('CREDENTIAL_MALFORMED', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`, 'bad scope terminator');
  }

  const required = ['host', 'x-amz-date', 'x-amz-x509'];
  if (request.headers['x-amz-x509-chain'] !== undefined) required.push('x-amz-x509-chain');
  const unsigned = required.find((name) => !signedHeaders.includes(name));
  if (unsigned !== undefined) {
    const displayName = unsigned.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
    return deny('SIGNED_HEADERS_INCOMPLETE', `'${displayName}' must be a 'SignedHeader' in the AWS Authorization.`, `SignedHeaders lacks ${unsigned}`);
  }

  const leafHeader = request.headers['x-amz-x509'];
  const leafDer = leafHeader === undefined ? undefined : decodeBase64(leafHeader);
  if (leafDer === undefined) return deny('CERTIFICATE_MISSING', UNTRUSTED, 'X-Amz-X509 is missing or not base64');
  let leafCertificate: Certificate;
  let leafProfile: CertificateProfile;
  try {
    leafCertificate = parseCertificate(leafDer);
    leafProfile = inspectCertificateOnce(leafDer);
  } catch {
    return deny('CERTIFICATE_UNPARSABLE', UNTRUSTED, 'X-Amz-X509 is not a DER X.509 certificate');
  }

  const serial = serialNumberOf(leafCertificate);
  if (leafProfile.keyType !== algorithmKeyType) {
    return deny('ALGORITHM_KEY_MISMATCH', INVALID_SIGNATURE, `${algorithm} needs a ${algorithmKeyType} key but the certificate holds ${leafProfile.keyType ?? 'an unsupported key type'}`);
  }
  if (serialText !== serial.toString(10)) {
    return deny('CREDENTIAL_SERIAL_MISMATCH', INVALID_SIGNATURE, `Credential names serial ${serialText} but the X-Amz-X509 certificate has serial ${serial.toString(10)}`);
  }

  const query = parseRawQuery(request.rawQuery);
  if (!query.ok) return reject(400, 'ValidationException', 'QUERY_MALFORMED', query.problem, query.problem);
  const canonical = await buildCanonicalRequest(request, query.value, signedHeaders);
  if (!canonical.ok) return deny(canonical.code, INVALID_SIGNATURE, canonical.problem);
  const stringToSign = buildStringToSign(algorithm, amzDateText, createScope(scopeDate, scopeRegion, scopeService), canonical.text);

  if (!/^(?:[0-9a-f]{2})+$/i.test(signature)) return deny('SIGNATURE_MALFORMED', INVALID_SIGNATURE, 'Signature is not hex');
  const leafSpki = new Uint8Array(AsnConvert.serialize(leafCertificate.tbsCertificate.subjectPublicKeyInfo));
  const signatureBytes = Buffer.from(signature, 'hex');
  let mlDsaVerifier: MlDsaVerifier | undefined;
  let verified: boolean;
  if (algorithmKeyType === 'ML-DSA') {
    mlDsaVerifier = await loadMlDsaVerifier();
    const parameterSet = mlDsaNameOfOid(leafProfile.publicKeyAlgorithmOid);
    const expectedLength = parameterSet === undefined ? undefined : ML_DSA_SIGNATURE_BYTES[parameterSet];
    if (signatureBytes.length !== expectedLength) {
      return deny('SIGNATURE_PARAMETER_SET_MISMATCH', INVALID_SIGNATURE, `the signature is ${signatureBytes.length} bytes but an ${parameterSet ?? 'ML-DSA'} signature is ${expectedLength ?? '?'} bytes (signed with another parameter set?)`);
    }
    verified = mlDsaVerifier(leafSpki, Buffer.from(stringToSign, 'utf8'), signatureBytes, parameterSet);
  } else {
    verified = signatureVerifies(algorithmKeyType, leafSpki, stringToSign, signatureBytes);
  }
  if (!verified) {
    return deny('SIGNATURE_MISMATCH', INVALID_SIGNATURE, 'the signature does not verify with the X-Amz-X509 key over the canonical request the emulator rebuilt (body, query, signed headers or key differ)');
  }

  const chainHeader = request.headers['x-amz-x509-chain'];
  const chainDers: Uint8Array[] = [];
  if (chainHeader !== undefined && chainHeader.trim() !== '') {
    const parts = chainHeader.split(',');
    if (parts.length > MAX_CHAIN_CERTIFICATES) {
      return deny('CHAIN_TOO_LONG', UNTRUSTED, `X-Amz-X509-Chain holds ${parts.length} certificates; at most ${MAX_CHAIN_CERTIFICATES} are accepted`);
    }
    for (const [index, part] of parts.entries()) {
      const der = decodeBase64(part.trim());
      if (der === undefined) return deny('CHAIN_UNPARSABLE', UNTRUSTED, `X-Amz-X509-Chain entry ${index + 1} is not base64 DER`);
      chainDers.push(der);
    }
  }
  return { leafDer, leafCertificate, leafProfile, chainDers, serial, query: query.value, mlDsaVerifier };
}

function readParameters(request: ReceivedRequest, query: Record<string, string | string[]>): SessionParameters | { rejection: Rejection } {
  let body: Record<string, unknown> = {};
  const bodyText = Buffer.from(request.body).toString('utf8').trim();
  if (bodyText !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bodyText);
    } catch {
      return reject(400, 'ValidationException', 'BODY_MALFORMED', 'Request body is not valid JSON.', 'body is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return reject(400, 'ValidationException', 'BODY_MALFORMED', 'Request body must be a JSON object.', 'body is not a JSON object');
    }
    body = parsed as Record<string, unknown>;
  }

  const errors: string[] = [];
  const conflicts: string[] = [];
  const arns: Record<'trustAnchorArn' | 'profileArn' | 'roleArn', string> = { trustAnchorArn: '', profileArn: '', roleArn: '' };
  for (const name of ['profileArn', 'roleArn', 'trustAnchorArn'] as const) {
    const fromQuery = query[name];
    const fromBody = body[name];
    if (Array.isArray(fromQuery)) {
      conflicts.push(`${name} appears more than once in the query`);
      continue;
    }
    if (fromQuery !== undefined && fromBody !== undefined && fromBody !== fromQuery) {
      conflicts.push(`${name} differs between the query and the body`);
      continue;
    }
    const value = fromQuery ?? fromBody;
    if (value === undefined || value === null) {
      errors.push(`Value null at '${name}' failed to satisfy constraint: Member must not be null`);
    } else if (typeof value !== 'string' || !arnIsWellFormed(name, value)) {
      errors.push(`Value '${String(value)}' at '${name}' failed to satisfy constraint: Member must be a valid ${name === 'roleArn' ? 'IAM role' : 'IAM Roles Anywhere'} ARN`);
    } else {
      arns[name] = value;
    }
  }
  if (conflicts.length > 0) {
    return reject(400, 'ValidationException', 'PARAMETER_CONFLICT', `${conflicts.join('; ')}.`, conflicts.join('; '));
  }

  let durationSeconds = DEFAULT_DURATION_SECONDS;
  const duration = body['durationSeconds'];
  if (duration !== undefined && duration !== null) {
    if (typeof duration !== 'number' || !Number.isInteger(duration)) {
      errors.push(`Value '${String(duration)}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
    } else if (duration < MIN_DURATION_SECONDS) {
      errors.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`);
    } else if (duration > MAX_DURATION_SECONDS) {
      errors.push(`Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${MAX_DURATION_SECONDS}`);
    } else {
      durationSeconds = duration;
    }
  }

  let roleSessionName: string | undefined;
  const sessionName = body['roleSessionName'];
  if (sessionName !== undefined && sessionName !== null) {
    // STS's RoleSessionName constraints, which the service passes the value on to.
    if (typeof sessionName !== 'string' || !/^[\w+=,.@-]*$/.test(sessionName)) {
      errors.push(`Value '${String(sessionName)}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    } else if (sessionName.length < 2) {
      errors.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2`);
    } else if (sessionName.length > 64) {
      errors.push(`Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`);
    } else {
      roleSessionName = sessionName;
    }
  }

  if (errors.length > 0) {
    const message = `${errors.length} validation error${errors.length > 1 ? 's' : ''} detected: ${errors.join('; ')}`;
    return reject(400, 'ValidationException', 'PARAMETER_INVALID', message, message);
  }
  return { ...arns, durationSeconds, roleSessionName };
}

function authorize(authenticated: AuthenticatedRequest, parameters: SessionParameters, context: CreateSessionContext, mlDsaVerifier: MlDsaVerifier | undefined): CreateSessionOutcome {
  const { config, now } = context;
  const trustAnchorArn = parseRolesAnywhereArn(parameters.trustAnchorArn);
  const profileArn = parseRolesAnywhereArn(parameters.profileArn);
  if (trustAnchorArn === undefined || profileArn === undefined) {
    // readParameters checked both; this keeps the types honest.
    return fail(reject(400, 'ValidationException', 'PARAMETER_INVALID', 'Invalid ARN.', 'unparsable ARN'));
  }
  if (trustAnchorArn.region !== profileArn.region) {
    return fail(reject(400, 'ValidationException', 'REGION_MISMATCH', 'Trust anchor and profile must be in the same region.', `trust anchor in ${trustAnchorArn.region}, profile in ${profileArn.region}`));
  }
  if (trustAnchorArn.region !== config.region) {
    return fail(reject(400, 'ValidationException', 'REGION_MISMATCH', `Trust anchor and profile must be in the region of this endpoint (${config.region}).`, `ARNs name region ${trustAnchorArn.region}`));
  }

  const trustAnchor = config.trustAnchors.get(parameters.trustAnchorArn);
  if (trustAnchor === undefined) {
    return fail(reject(404, 'ResourceNotFoundException', 'TRUST_ANCHOR_NOT_FOUND', 'Trust anchor not found.', `no trust anchor ${parameters.trustAnchorArn} in the emulator config`));
  }
  if (!trustAnchor.enabled) {
    return fail(deny('TRUST_ANCHOR_DISABLED', 'Trust anchor is disabled.', `${trustAnchor.arn} has enabled: false`));
  }
  const path = validateCertificatePath(authenticated.leafDer, authenticated.chainDers, trustAnchor.certificates, now, mlDsaVerifier);
  if (!path.ok) return fail(deny(path.reason, UNTRUSTED, path.detail));

  const profile = config.profiles.get(parameters.profileArn);
  if (profile === undefined) {
    return fail(reject(404, 'ResourceNotFoundException', 'PROFILE_NOT_FOUND', 'Profile not found.', `no profile ${parameters.profileArn} in the emulator config`));
  }
  if (!profile.enabled) return fail(deny('PROFILE_DISABLED', 'Profile is disabled.', `${profile.arn} has enabled: false`));
  if (!profile.roleArns.includes(parameters.roleArn)) {
    return fail(deny('ROLE_NOT_IN_PROFILE', `Unable to assume role for ${parameters.roleArn}. Role is not associated with the profile.`, `${parameters.roleArn} is not in the roleArns of ${profile.arn}`));
  }
  if (parameters.roleSessionName !== undefined && !profile.acceptRoleSessionName) {
    return fail(deny('ROLE_SESSION_NAME_NOT_ALLOWED', 'Not authorized to set roleSessionName.', `${profile.arn} has acceptRoleSessionName: false`));
  }
  const durationSeconds = Math.min(parameters.durationSeconds, profile.durationSeconds);
  const maxSessionDuration = config.roles.get(parameters.roleArn)?.maxSessionDuration;
  if (maxSessionDuration !== undefined && durationSeconds > maxSessionDuration) {
    return fail(deny('DURATION_EXCEEDS_ROLE_MAXIMUM', `Unable to assume role for ${parameters.roleArn}. The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`, `${durationSeconds}s > MaxSessionDuration ${maxSessionDuration}s`));
  }

  const role = parseRoleArn(parameters.roleArn);
  const serialHex = evenLengthHex(authenticated.serial);
  const sessionName = parameters.roleSessionName ?? serialHex;
  const session = context.sessions.issue(
    {
      partition: config.partition,
      accountId: config.accountId,
      roleArn: parameters.roleArn,
      roleName: role?.roleName ?? parameters.roleArn,
      sessionName,
      expiresAt: new Date(now.getTime() + durationSeconds * 1000),
    },
    now,
  );
  const commonName = commonNameOf(authenticated.leafCertificate);
  const sourceIdentity = commonName !== undefined && commonName.length <= SOURCE_IDENTITY_MAX_CN ? `CN=${commonName}` : `ID=${serialHex}`;
  const body: CreateSessionResponseBody = {
    credentialSet: [
      {
        assumedRoleUser: { arn: session.assumedRoleArn, assumedRoleId: session.assumedRoleId },
        credentials: {
          accessKeyId: session.accessKeyId,
          secretAccessKey: session.secretAccessKey,
          sessionToken: session.sessionToken,
          expiration: formatRfc3339(session.expiresAt),
        },
        packedPolicySize: 0,
        roleArn: parameters.roleArn,
        sourceIdentity,
      },
    ],
    subjectArn: `arn:${config.partition}:rolesanywhere:${config.region}:${config.accountId}:subject/${subjectIdOf(authenticated.leafCertificate)}`,
  };
  const summary = `serial=${serialHex} role=${parameters.roleArn} session=${sessionName} accessKeyId=${session.accessKeyId} duration=${durationSeconds}s`;
  return { ok: true, body, session, summary };
}

/** RSA and EC through node:crypto; ML-DSA goes through ./mldsa.js instead. */
function signatureVerifies(keyType: 'RSA' | 'EC', spki: Uint8Array, stringToSign: string, signature: Buffer): boolean {
  const data = Buffer.from(stringToSign, 'utf8');
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    switch (keyType) {
      case 'RSA':
        // PKCS#1 v1.5 only: a PSS signature must fail here, as it does at the service.
        return verifySignature('sha256', data, { key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
      case 'EC':
        return verifySignature('sha256', data, { key, dsaEncoding: 'der' }, signature);
    }
  } catch {
    return false;
  }
}

/** The certificate serial as the signed integer DER holds (RFC 5280 wants it positive). */
function serialNumberOf(certificate: Certificate): bigint {
  const bytes = new Uint8Array(certificate.tbsCertificate.serialNumber);
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  const first = bytes[0];
  if (first !== undefined && first >= 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** Hex of the serial's magnitude, left-padded to whole bytes: the form sourceIdentity uses. */
function evenLengthHex(value: bigint): string {
  const hex = (value < 0n ? -value : value).toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

function commonNameOf(certificate: Certificate): string | undefined {
  for (const rdn of certificate.tbsCertificate.subject) {
    for (const attribute of rdn) {
      if (attribute.type === '2.5.4.3') return attribute.value.toString();
    }
  }
  return undefined;
}

/** A stable UUID-shaped id per certificate subject, like the service's subject resources. */
function subjectIdOf(certificate: Certificate): string {
  const subject = AsnConvert.serialize(certificate.tbsCertificate.subject);
  const hex = createHash('sha256').update(new Uint8Array(subject)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function arnIsWellFormed(name: 'trustAnchorArn' | 'profileArn' | 'roleArn', value: string): boolean {
  if (name === 'roleArn') return parseRoleArn(value) !== undefined;
  const parsed = parseRolesAnywhereArn(value);
  return parsed !== undefined && parsed.resourceType === (name === 'profileArn' ? 'profile' : 'trust-anchor');
}

/** RFC 3339 without fractional seconds: botocore's and the SDKs' strictest parsers accept it. */
function formatRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function reject(status: Rejection['status'], type: ServiceErrorType, reason: RejectionReason, message: string, detail: string): { rejection: Rejection } {
  return { rejection: { status, type, message, reason, detail } };
}

function deny(reason: RejectionReason, message: string, detail: string): { rejection: Rejection } {
  return reject(403, 'AccessDeniedException', reason, message, detail);
}

function fail(rejected: { rejection: Rejection }): CreateSessionOutcome {
  return { ok: false, rejection: rejected.rejection };
}
