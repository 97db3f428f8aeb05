import t, { type Test } from 'tap';
import { createPrivateKey } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import {
  createCertificateAuthority,
  generateKeyPair,
  issueLeafCertificate,
  type CertificateAuthority,
  type GeneratedKeyPair,
  type IssueLeafCertificateOptions,
} from '../../src/emulator/pki.js';
import { send, serialDecimal, signTestRequest, type TestRequestOptions } from './x509-request.js';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const TRUST_ANCHOR = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/ta-main`;
const DISABLED_ANCHOR = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/ta-off`;
const PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/p-main`;
const STRICT_PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/p-strict`;
const DISABLED_PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/p-off`;
const LONG_PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/p-long`;
const EXPIRED_ANCHOR = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/ta-expired`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/team/app-role`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/other`;
const LIMITED_ROLE = `arn:aws:iam::${ACCOUNT}:role/limited`;

// A fixed clock a little after real time, so certificates issued with default validity fit.
const now = new Date(Math.floor(Date.now() / 1000) * 1000);

const root: CertificateAuthority = await createCertificateAuthority({ subject: 'CN=Emulator Test Root', keyAlgorithm: 'RSA-2048', now });
const intermediate = await createCertificateAuthority({ subject: 'CN=Emulator Test Issuing', keyAlgorithm: 'EC-P384', issuer: root, pathLength: 0, now });
const stranger = await createCertificateAuthority({ subject: 'CN=Someone Else', keyAlgorithm: 'EC-P256', now });
const expiredRoot = await createCertificateAuthority({
  subject: 'CN=Expired Root',
  keyAlgorithm: 'EC-P256',
  notBefore: new Date(now.getTime() - 2 * 86_400_000),
  notAfter: new Date(now.getTime() - 86_400_000),
});
const sha1Intermediate = await createCertificateAuthority({ subject: 'CN=SHA-1 Issuing', keyAlgorithm: 'EC-P256', issuer: root, signatureHash: 'SHA-1', now });
const ecKey = generateKeyPair('EC-P256');
const rsaKey = generateKeyPair('RSA-2048');

async function leafFor(key: GeneratedKeyPair, overrides: Partial<IssueLeafCertificateOptions> = {}): Promise<Uint8Array> {
  const issued = await issueLeafCertificate({ issuer: intermediate, subject: 'CN=workload-01,O=Example', publicKey: key.publicKey, now, ...overrides });
  return issued.certificateDer;
}

const ecLeaf = await leafFor(ecKey);
const rsaLeafUnderRoot = await leafFor(rsaKey, { issuer: root, subject: 'O=No Common Name' });

const logLines: string[] = [];
const emulator: RunningEmulator = await startEmulator(
  {
    region: REGION,
    accountId: ACCOUNT,
    trustAnchors: [
      { arn: TRUST_ANCHOR, certificates: [root.certificatePem] },
      { arn: DISABLED_ANCHOR, certificates: [root.certificatePem], enabled: false },
      { arn: EXPIRED_ANCHOR, certificates: [expiredRoot.certificatePem] },
    ],
    profiles: [
      { arn: PROFILE, roleArns: [ROLE], durationSeconds: 3600, acceptRoleSessionName: true },
      { arn: STRICT_PROFILE, roleArns: [ROLE], durationSeconds: 7200 },
      { arn: DISABLED_PROFILE, roleArns: [ROLE], enabled: false },
      { arn: LONG_PROFILE, roleArns: [LIMITED_ROLE], durationSeconds: 43200 },
    ],
    roles: [{ arn: LIMITED_ROLE, maxSessionDuration: 3600 }],
  },
  { clock: () => now, log: (line) => logLines.push(line) },
);
t.teardown(() => emulator.close());

const defaultQuery = { profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TRUST_ANCHOR };

function ecRequest(overrides: Partial<TestRequestOptions> = {}): ReturnType<typeof signTestRequest> {
  return signTestRequest({
    url: emulator.url,
    region: REGION,
    privateKey: ecKey.privateKeyPem,
    keyType: 'EC',
    certificateDer: ecLeaf,
    chainDers: [intermediate.certificateDer],
    query: defaultQuery,
    body: '{"durationSeconds":3600}',
    signingDate: now,
    ...overrides,
  });
}

interface CredentialSetEntry {
  assumedRoleUser: { arn: string; assumedRoleId: string };
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: string };
  packedPolicySize: number;
  roleArn: string;
  sourceIdentity: string;
}

function firstSet(json: Record<string, unknown>): CredentialSetEntry {
  const set = (json['credentialSet'] as CredentialSetEntry[] | undefined)?.[0];
  if (set === undefined) throw new Error(`no credentialSet in ${JSON.stringify(json)}`);
  return set;
}

function serialHex(der: Uint8Array): string {
  const hex = BigInt(serialDecimal(der)).toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

const issuedSecrets: string[] = [];

t.test('accepts a good EC request with an intermediate in X-Amz-X509-Chain', async (t) => {
  const before = emulator.stats.createSession;
  const response = await send(ecRequest());
  t.equal(response.status, 201, JSON.stringify(response.json));
  const set = firstSet(response.json);
  issuedSecrets.push(set.credentials.secretAccessKey, set.credentials.sessionToken);
  t.match(set.credentials.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  t.equal(set.credentials.secretAccessKey.length, 40);
  t.ok(set.credentials.sessionToken.length > 100);
  t.equal(set.credentials.expiration, new Date(now.getTime() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  t.equal(set.roleArn, ROLE);
  t.equal(set.sourceIdentity, 'CN=workload-01');
  t.equal(set.assumedRoleUser.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/${serialHex(ecLeaf)}`);
  t.match(set.assumedRoleUser.assumedRoleId, new RegExp(`^AROA[A-Z2-7]{16}:${serialHex(ecLeaf)}$`));
  t.equal(set.packedPolicySize, 0);
  t.match(response.json['subjectArn'], new RegExp(`^arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:subject/[0-9a-f-]{36}$`));
  t.equal(emulator.stats.createSession, before + 1);
});

t.test('accepts a good RSA request straight under the anchor; no CN gives ID=<serial hex>', async (t) => {
  const response = await send(
    ecRequest({ privateKey: rsaKey.privateKeyPem, keyType: 'RSA', certificateDer: rsaLeafUnderRoot, chainDers: [] }),
  );
  t.equal(response.status, 201, JSON.stringify(response.json));
  const set = firstSet(response.json);
  issuedSecrets.push(set.credentials.secretAccessKey, set.credentials.sessionToken);
  t.equal(set.sourceIdentity, `ID=${serialHex(rsaLeafUnderRoot)}`);
});

t.test('accepts the ARNs in the JSON body instead of the query', async (t) => {
  const response = await send(ecRequest({ query: {}, body: JSON.stringify({ durationSeconds: 900, ...defaultQuery }) }));
  t.equal(response.status, 201, JSON.stringify(response.json));
  t.equal(firstSet(response.json).credentials.expiration, new Date(now.getTime() + 900_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
});

t.test("caps durationSeconds at the profile's and honours an allowed roleSessionName", async (t) => {
  const response = await send(ecRequest({ body: '{"durationSeconds":43200,"roleSessionName":"alice@example"}' }));
  t.equal(response.status, 201, JSON.stringify(response.json));
  const set = firstSet(response.json);
  t.equal(set.credentials.expiration, new Date(now.getTime() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  t.equal(set.assumedRoleUser.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/app-role/alice@example`);
});

t.test('the leaf may also appear in X-Amz-X509-Chain (containers do that)', async (t) => {
  const response = await send(ecRequest({ chainDers: [ecLeaf, intermediate.certificateDer] }));
  t.equal(response.status, 201, JSON.stringify(response.json));
});

interface RejectionCase {
  readonly name: string;
  readonly request: () => Promise<ReturnType<typeof signTestRequest>> | ReturnType<typeof signTestRequest>;
  readonly status: number;
  readonly type: string;
  readonly message: string;
  readonly reason: string;
}

const minutes = (count: number): number => count * 60_000;

const rejections: RejectionCase[] = [
  {
    name: 'tampered body',
    request: () => ecRequest({ bodyAfterSigning: '{"durationSeconds":3601}' }),
    status: 403, type: 'AccessDeniedException', message: 'Invalid signature', reason: 'SIGNATURE_MISMATCH',
  },
  {
    name: 'tampered query (another role)',
    request: () => {
      const request = ecRequest();
      return { ...request, url: request.url.replace('app-role', 'other-role') };
    },
    status: 403, type: 'AccessDeniedException', message: 'Invalid signature', reason: 'SIGNATURE_MISMATCH',
  },
  {
    name: 'signed by another key than the certificate',
    request: () => ecRequest({ privateKey: createPrivateKey(generateKeyPair('EC-P256').privateKeyPem) }),
    status: 403, type: 'AccessDeniedException', message: 'Invalid signature', reason: 'SIGNATURE_MISMATCH',
  },
  {
    name: 'wrong serial in Credential',
    request: () => ecRequest({ serialOverride: '12345' }),
    status: 403, type: 'AccessDeniedException', message: 'Invalid signature', reason: 'CREDENTIAL_SERIAL_MISMATCH',
  },
  {
    name: 'RSA algorithm over an EC certificate',
    request: () => ecRequest({ algorithmOverride: 'AWS4-X509-RSA-SHA256' }),
    status: 403, type: 'AccessDeniedException', message: 'Invalid signature', reason: 'ALGORITHM_KEY_MISMATCH',
  },
  {
    name: 'unknown algorithm',
    request: () => ecRequest({ algorithmOverride: 'AWS4-HMAC-SHA256' }),
    status: 403, type: 'AccessDeniedException', message: "Unsupported signing algorithm 'AWS4-HMAC-SHA256'.", reason: 'ALGORITHM_UNSUPPORTED',
  },
  {
    name: 'X-Amz-X509 not signed',
    request: () => ecRequest({ signedHeadersOverride: ['content-type', 'host', 'x-amz-date', 'x-amz-x509-chain'] }),
    status: 403, type: 'AccessDeniedException', message: "'X-Amz-X509' must be a 'SignedHeader' in the AWS Authorization.", reason: 'SIGNED_HEADERS_INCOMPLETE',
  },
  {
    name: 'X-Amz-X509-Chain sent but not signed',
    request: () => ecRequest({ signedHeadersOverride: ['content-type', 'host', 'x-amz-date', 'x-amz-x509'] }),
    status: 403, type: 'AccessDeniedException', message: "'X-Amz-X509-Chain' must be a 'SignedHeader' in the AWS Authorization.", reason: 'SIGNED_HEADERS_INCOMPLETE',
  },
  {
    name: 'scope in another region',
    request: () => ecRequest({ scopeRegion: 'us-east-1' }),
    status: 403, type: 'AccessDeniedException', message: "Credential should be scoped to a valid region, not 'us-east-1'.", reason: 'CREDENTIAL_REGION_MISMATCH',
  },
  {
    name: 'scope for another service',
    request: () => ecRequest({ scopeService: 'sts' }),
    status: 403, type: 'AccessDeniedException', message: "Credential should be scoped to correct service: 'rolesanywhere'.", reason: 'CREDENTIAL_SERVICE_MISMATCH',
  },
  {
    name: 'signed 6 minutes ago (clock skew)',
    request: () => ecRequest({ signingDate: new Date(now.getTime() - minutes(6)) }),
    status: 403, type: 'AccessDeniedException',
    message: `Signature expired: ${amz(now.getTime() - minutes(6))} is now earlier than ${amz(now.getTime() - minutes(5))} (${amz(now.getTime())} - 5 min.)`,
    reason: 'CLOCK_SKEW',
  },
  {
    name: 'signed 6 minutes ahead (clock skew)',
    request: () => ecRequest({ signingDate: new Date(now.getTime() + minutes(6)) }),
    status: 403, type: 'AccessDeniedException',
    message: `Signature not yet current: ${amz(now.getTime() + minutes(6))} is still later than ${amz(now.getTime() + minutes(5))} (${amz(now.getTime())} + 5 min.)`,
    reason: 'CLOCK_SKEW',
  },
  {
    name: 'expired certificate',
    request: async () => {
      const expired = await leafFor(ecKey, { notBefore: new Date(now.getTime() - minutes(120)), notAfter: new Date(now.getTime() - minutes(60)) });
      return ecRequest({ certificateDer: expired });
    },
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'LEAF_REJECTED',
  },
  {
    name: 'certificate from a CA that is not the trust anchor',
    request: async () => ecRequest({ certificateDer: await leafFor(ecKey, { issuer: stranger }), chainDers: [] }),
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'CHAIN_UNTRUSTED',
  },
  {
    name: 'intermediate missing from X-Amz-X509-Chain',
    request: () => ecRequest({ chainDers: [] }),
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'CHAIN_UNTRUSTED',
  },
  {
    name: 'CA:TRUE leaf',
    request: async () => ecRequest({ certificateDer: await leafFor(ecKey, { basicConstraintsCA: true }) }),
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'LEAF_REJECTED',
  },
  {
    name: 'SHA-1 signed leaf',
    request: async () => ecRequest({ certificateDer: await leafFor(ecKey, { signatureHash: 'SHA-1' }) }),
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'LEAF_REJECTED',
  },
  {
    name: 'pathLenConstraint exceeded',
    request: async () => {
      const second = await createCertificateAuthority({ subject: 'CN=Below pathlen 0', keyAlgorithm: 'EC-P256', issuer: intermediate, now });
      const leaf = await leafFor(ecKey, { issuer: second });
      return ecRequest({ certificateDer: leaf, chainDers: [second.certificateDer, intermediate.certificateDer] });
    },
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'PATH_LENGTH_EXCEEDED',
  },
  {
    name: 'six certificates in X-Amz-X509-Chain',
    request: () => ecRequest({ chainDers: Array.from({ length: 6 }, () => intermediate.certificateDer) }),
    status: 403, type: 'AccessDeniedException', message: 'Untrusted Signing Certificate', reason: 'CHAIN_TOO_LONG',
  },
  {
    name: 'durationSeconds below 900',
    request: () => ecRequest({ body: '{"durationSeconds":899}' }),
    status: 400, type: 'ValidationException',
    message: "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    reason: 'PARAMETER_INVALID',
  },
  {
    name: 'durationSeconds above 43200',
    request: () => ecRequest({ body: '{"durationSeconds":43201}' }),
    status: 400, type: 'ValidationException',
    message: "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    reason: 'PARAMETER_INVALID',
  },
  {
    name: 'roleArn missing',
    request: () => ecRequest({ query: { profileArn: PROFILE, trustAnchorArn: TRUST_ANCHOR } }),
    status: 400, type: 'ValidationException',
    message: "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    reason: 'PARAMETER_INVALID',
  },
  {
    name: 'role not in the profile',
    request: () => ecRequest({ query: { ...defaultQuery, roleArn: OTHER_ROLE } }),
    status: 403, type: 'AccessDeniedException',
    message: `Unable to assume role for ${OTHER_ROLE}. Role is not associated with the profile.`,
    reason: 'ROLE_NOT_IN_PROFILE',
  },
  {
    name: 'roleSessionName on a profile that does not accept it',
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: STRICT_PROFILE }, body: '{"durationSeconds":3600,"roleSessionName":"bob"}' }),
    status: 403, type: 'AccessDeniedException', message: 'Not authorized to set roleSessionName.', reason: 'ROLE_SESSION_NAME_NOT_ALLOWED',
  },
  {
    name: 'unknown profile',
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/nope` } }),
    status: 404, type: 'ResourceNotFoundException', message: 'Profile not found.', reason: 'PROFILE_NOT_FOUND',
  },
  {
    name: 'disabled trust anchor',
    request: () => ecRequest({ query: { ...defaultQuery, trustAnchorArn: DISABLED_ANCHOR } }),
    status: 403, type: 'AccessDeniedException', message: 'Trust anchor is disabled.', reason: 'TRUST_ANCHOR_DISABLED',
  },
  {
    name: 'ARNs from another region',
    request: () => ecRequest({
      query: {
        profileArn: `arn:aws:rolesanywhere:us-west-2:${ACCOUNT}:profile/p-main`,
        roleArn: ROLE,
        trustAnchorArn: `arn:aws:rolesanywhere:us-west-2:${ACCOUNT}:trust-anchor/ta-main`,
      },
    }),
    status: 400, type: 'ValidationException', message: `Trust anchor and profile must be in the region of this endpoint (${REGION}).`, reason: 'REGION_MISMATCH',
  },
  {
    name: 'no Authorization header',
    request: () => {
      const { authorization: _authorization, ...headers } = ecRequest().headers;
      return { ...ecRequest(), headers };
    },
    status: 403, type: 'AccessDeniedException', message: 'Missing Authentication Token', reason: 'AUTHORIZATION_MISSING',
  },
];

/** Sends each row's request and compares what came back, one assertion per row. */
async function expectRejections(t: Test, rows: readonly RejectionCase[]): Promise<void> {
  for (const row of rows) {
    const response = await send(await row.request());
    t.same(
      { status: response.status, type: response.errorType, message: response.json['message'], reason: response.reason },
      { status: row.status, type: row.type, message: row.message, reason: row.reason },
      row.name,
    );
  }
}

t.test('rejections: exact status, error type, message and reason', async (t) => {
  await expectRejections(t, rejections);
});

type SignedTestRequest = ReturnType<typeof signTestRequest>;

/** The request with headers replaced (a string) or removed (undefined) after signing. */
function withHeaders(request: SignedTestRequest, changes: Readonly<Record<string, string | undefined>>): SignedTestRequest {
  const headers = { ...request.headers };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...request, headers };
}

function withAuthorization(request: SignedTestRequest, edit: (authorization: string) => string): SignedTestRequest {
  return withHeaders(request, { authorization: edit(request.headers['authorization'] ?? '') });
}

const today = amz(now.getTime()).slice(0, 8);
const UNTRUSTED = 'Untrusted Signing Certificate';
const denied = { status: 403, type: 'AccessDeniedException' } as const;
const invalid = { status: 400, type: 'ValidationException' } as const;

const moreRejections: RejectionCase[] = [
  {
    name: 'Authorization without parameters',
    request: () => withHeaders(ecRequest(), { authorization: 'AWS4-X509-ECDSA-SHA256' }),
    ...denied, message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.", reason: 'AUTHORIZATION_MALFORMED',
  },
  {
    name: 'Authorization without SignedHeaders and Signature',
    request: () => withHeaders(ecRequest(), { authorization: 'AWS4-X509-ECDSA-SHA256 Credential=1/x' }),
    ...denied, message: "Authorization header requires 'SignedHeaders', 'Signature' parameters.", reason: 'AUTHORIZATION_MALFORMED',
  },
  {
    name: 'no X-Amz-Date',
    request: () => withHeaders(ecRequest(), { 'x-amz-date': undefined }),
    ...denied, message: 'Missing X-Amz-Date header.', reason: 'DATE_MISSING',
  },
  {
    name: 'an X-Amz-Date that is no date (February 30)',
    request: () => withHeaders(ecRequest(), { 'x-amz-date': '20250230T000000Z' }),
    ...denied, message: "Invalid X-Amz-Date '20250230T000000Z'; expected YYYYMMDDTHHMMSSZ.", reason: 'DATE_MALFORMED',
  },
  {
    name: 'a serial that is not a number',
    request: () => ecRequest({ serialOverride: 'abc' }),
    ...denied, message: 'Credential must have the form <certificate serial>/<date>/<region>/rolesanywhere/aws4_request.', reason: 'CREDENTIAL_MALFORMED',
  },
  {
    name: 'a scope date other than the X-Amz-Date day',
    request: () => withAuthorization(ecRequest(), (authorization) => authorization.replace(`/${today}/`, '/20000101/')),
    ...denied,
    message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20000101' != '${today}', from 'x-amz-date'.`,
    reason: 'CREDENTIAL_DATE_MISMATCH',
  },
  {
    name: 'a scope terminator other than aws4_request',
    request: () => withAuthorization(ecRequest(), (authorization) => authorization.replace('/aws4_request,', '/aws5_request,')),
    ...denied, message: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.", reason: 'CREDENTIAL_MALFORMED',
  },
  {
    name: 'X-Amz-X509 that is not base64',
    request: () => withHeaders(ecRequest(), { 'x-amz-x509': 'not base64!' }),
    ...denied, message: UNTRUSTED, reason: 'CERTIFICATE_MISSING',
  },
  {
    name: 'X-Amz-X509 that is not a certificate',
    request: () => withHeaders(ecRequest(), { 'x-amz-x509': Buffer.from('hello world').toString('base64') }),
    ...denied, message: UNTRUSTED, reason: 'CERTIFICATE_UNPARSABLE',
  },
  {
    name: 'a query that is not percent-encoding',
    request: () => {
      const request = ecRequest();
      return { ...request, url: `${request.url}&bad=%zz` };
    },
    ...invalid, message: 'The query string is not valid percent-encoding.', reason: 'QUERY_MALFORMED',
  },
  {
    name: 'a signature that is not hex',
    request: () => withAuthorization(ecRequest(), (authorization) => authorization.replace(/Signature=[0-9a-f]+$/, 'Signature=xyz')),
    ...denied, message: 'Invalid signature', reason: 'SIGNATURE_MALFORMED',
  },
  {
    name: 'a signed header that was not sent',
    request: () => ecRequest({ signedHeadersOverride: ['content-type', 'host', 'x-amz-date', 'x-amz-x509', 'x-amz-x509-chain', 'x-not-sent'] }),
    ...denied, message: 'Invalid signature', reason: 'SIGNED_HEADER_ABSENT',
  },
  {
    name: 'a signed X-Amz-X509-Chain entry that is not base64',
    request: () => ecRequest({ chainHeaderOverride: 'not*base64' }),
    ...denied, message: UNTRUSTED, reason: 'CHAIN_UNPARSABLE',
  },
  {
    name: 'a body that is not JSON',
    request: () => ecRequest({ body: 'durationSeconds=3600' }),
    ...invalid, message: 'Request body is not valid JSON.', reason: 'BODY_MALFORMED',
  },
  {
    name: 'a body that is not a JSON object',
    request: () => ecRequest({ body: '[3600]' }),
    ...invalid, message: 'Request body must be a JSON object.', reason: 'BODY_MALFORMED',
  },
  {
    name: 'an ARN that differs between the query and the body',
    request: () => ecRequest({ body: JSON.stringify({ durationSeconds: 3600, roleArn: OTHER_ROLE }) }),
    ...invalid, message: 'roleArn differs between the query and the body.', reason: 'PARAMETER_CONFLICT',
  },
  {
    name: 'a role ARN where the profile ARN belongs',
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: ROLE } }),
    ...invalid,
    message: `1 validation error detected: Value '${ROLE}' at 'profileArn' failed to satisfy constraint: Member must be a valid IAM Roles Anywhere ARN`,
    reason: 'PARAMETER_INVALID',
  },
  {
    name: 'every bad parameter is listed at once',
    request: () => ecRequest({ body: '{"durationSeconds":"3600","roleSessionName":"a b"}' }),
    ...invalid,
    message:
      "2 validation errors detected: Value '3600' at 'durationSeconds' failed to satisfy constraint: Member must be an integer; " +
      "Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    reason: 'PARAMETER_INVALID',
  },
  {
    name: 'a roleSessionName of one character',
    request: () => ecRequest({ body: '{"roleSessionName":"a"}' }),
    ...invalid, message: "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", reason: 'PARAMETER_INVALID',
  },
  {
    name: 'a roleSessionName of 65 characters',
    request: () => ecRequest({ body: JSON.stringify({ roleSessionName: 'n'.repeat(65) }) }),
    ...invalid, message: `1 validation error detected: Value '${'n'.repeat(65)}' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64`, reason: 'PARAMETER_INVALID',
  },
  {
    name: 'trust anchor and profile in two regions',
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: `arn:aws:rolesanywhere:us-west-2:${ACCOUNT}:profile/p-main` } }),
    ...invalid, message: 'Trust anchor and profile must be in the same region.', reason: 'REGION_MISMATCH',
  },
  {
    name: 'unknown trust anchor',
    request: () => ecRequest({ query: { ...defaultQuery, trustAnchorArn: `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/nope` } }),
    status: 404, type: 'ResourceNotFoundException', message: 'Trust anchor not found.', reason: 'TRUST_ANCHOR_NOT_FOUND',
  },
  {
    name: 'disabled profile',
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: DISABLED_PROFILE } }),
    ...denied, message: 'Profile is disabled.', reason: 'PROFILE_DISABLED',
  },
  {
    name: "a duration above the role's MaxSessionDuration",
    request: () => ecRequest({ query: { ...defaultQuery, profileArn: LONG_PROFILE, roleArn: LIMITED_ROLE }, body: '{"durationSeconds":7200}' }),
    ...denied,
    message: `Unable to assume role for ${LIMITED_ROLE}. The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
    reason: 'DURATION_EXCEEDS_ROLE_MAXIMUM',
  },
  {
    name: 'a trust anchor certificate that has expired',
    request: async () => ecRequest({ query: { ...defaultQuery, trustAnchorArn: EXPIRED_ANCHOR }, certificateDer: await leafFor(ecKey, { issuer: expiredRoot }), chainDers: [] }),
    ...denied, message: UNTRUSTED, reason: 'ANCHOR_NOT_VALID_NOW',
  },
  {
    name: 'an intermediate signed with SHA-1',
    request: async () => ecRequest({ certificateDer: await leafFor(ecKey, { issuer: sha1Intermediate }), chainDers: [sha1Intermediate.certificateDer] }),
    ...denied, message: UNTRUSTED, reason: 'INTERMEDIATE_REJECTED',
  },
];

t.test('more rejections: every check before the signature, the parameters and the path', async (t) => {
  await expectRejections(t, moreRejections);
  t.ok(logLines.some((line) => line.startsWith('CreateSession 403 AccessDeniedException INTERMEDIATE_REJECTED: intermediate "CN=SHA-1 Issuing": certificate is signed with sha1WithRSAEncryption')), 'the intermediate rule is logged');
  t.ok(logLines.some((line) => line.startsWith('CreateSession 403 AccessDeniedException ANCHOR_NOT_VALID_NOW: trust anchor "CN=Expired Root" is not valid now')), 'the anchor validity is logged');
});

t.test('unknown routes answer 404 in the service shape', async (t) => {
  const response = await fetch(`${emulator.url}/nowhere`, { method: 'POST' });
  t.equal(response.status, 404);
  t.equal(response.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  t.same(await response.json(), { message: 'No route for POST /nowhere; the emulator serves POST /sessions (CreateSession) and POST / (STS)' });
});

t.test('the log says why, and never holds a secret', async (t) => {
  t.ok(logLines.some((line) => line.startsWith('CreateSession 403 AccessDeniedException PATH_LENGTH_EXCEEDED: "CN=Emulator Test Issuing" allows 0 intermediate CA(s) below it')), 'pathLen detail logged');
  t.ok(logLines.some((line) => line.includes('LEAF_REJECTED: certificate is signed with ecdsa-with-SHA1')), 'rule message logged');
  t.ok(issuedSecrets.length >= 4);
  for (const secret of issuedSecrets) {
    t.notOk(logLines.some((line) => line.includes(secret)), 'no secret in the log');
  }
});

function amz(milliseconds: number): string {
  return new Date(milliseconds).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
