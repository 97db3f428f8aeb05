/**
 * The STS stub with real clients: the AWS CLI (botocore's SigV4) and the AWS SDK for
 * JavaScript v3, using credentials the emulator issued through CreateSession.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import t from 'tap';
import { startEmulator } from '../../src/emulator/index.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import { send, signTestRequest } from './x509-request.js';

const execFileAsync = promisify(execFile);

const REGION = 'us-west-2';
const ACCOUNT = '444455556666';
const TRUST_ANCHOR = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/sts-ta`;
const PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/sts-profile`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/sts-role`;

let clockMs = Math.floor(Date.now() / 1000) * 1000;
const root = await createCertificateAuthority({ subject: 'CN=STS Test Root', keyAlgorithm: 'EC-P256' });
const key = generateKeyPair('EC-P256');
const leaf = await issueLeafCertificate({ issuer: root, subject: 'CN=sts-client', publicKey: key.publicKey });
const logLines: string[] = [];
const emulator = await startEmulator(
  {
    region: REGION,
    accountId: ACCOUNT,
    trustAnchors: [{ arn: TRUST_ANCHOR, certificates: [root.certificatePem] }],
    profiles: [{ arn: PROFILE, roleArns: [ROLE], acceptRoleSessionName: true }],
  },
  { clock: () => new Date(clockMs), log: (line) => logLines.push(line) },
);
const scratch = await mkdtemp(join(tmpdir(), 'emulator-sts-'));
t.teardown(async () => {
  await emulator.close();
  await rm(scratch, { recursive: true, force: true });
});
// Empty config files: the developer's own ~/.aws must not leak into these runs.
await writeFile(join(scratch, 'config'), '');
await writeFile(join(scratch, 'credentials'), '');

const issuedSecrets: string[] = [];

interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

async function createSession(sessionName: string): Promise<IssuedCredentials & { arn: string }> {
  const response = await send(
    signTestRequest({
      url: emulator.url,
      region: REGION,
      privateKey: key.privateKeyPem,
      keyType: 'EC',
      certificateDer: leaf.certificateDer,
      query: { profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TRUST_ANCHOR },
      body: JSON.stringify({ durationSeconds: 900, roleSessionName: sessionName }),
      signingDate: new Date(clockMs),
    }),
  );
  if (response.status !== 201) throw new Error(`CreateSession failed: ${JSON.stringify(response.json)}`);
  const set = (response.json['credentialSet'] as Array<{ credentials: IssuedCredentials; assumedRoleUser: { arn: string } }>)[0];
  if (set === undefined) throw new Error('no credential set');
  issuedSecrets.push(set.credentials.secretAccessKey, set.credentials.sessionToken);
  return { ...set.credentials, arn: set.assumedRoleUser.arn };
}

async function awsCli(credentials: IssuedCredentials): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: scratch,
    AWS_CONFIG_FILE: join(scratch, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
  // pyenv's shim needs its root to find the interpreter.
  if (process.env['PYENV_ROOT'] !== undefined) env['PYENV_ROOT'] = process.env['PYENV_ROOT'];
  try {
    const { stdout, stderr } = await execFileAsync('aws', ['sts', 'get-caller-identity', '--endpoint-url', emulator.url, '--output', 'json'], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

t.test('aws sts get-caller-identity with issued credentials prints the assumed role', async (t) => {
  const credentials = await createSession('cli-session');
  const before = emulator.stats.getCallerIdentity;
  const result = await awsCli(credentials);
  t.equal(result.code, 0, result.stderr);
  const identity = JSON.parse(result.stdout) as { Arn: string; UserId: string; Account: string };
  t.equal(identity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sts-role/cli-session`);
  t.equal(identity.Arn, credentials.arn);
  t.match(identity.UserId, /^AROA[A-Z2-7]{16}:cli-session$/);
  t.equal(identity.Account, ACCOUNT);
  t.equal(emulator.stats.getCallerIdentity, before + 1);
});

t.test('a wrong secret key is refused with SignatureDoesNotMatch', async (t) => {
  const credentials = await createSession('wrong-secret');
  const wrongSecret = `${credentials.secretAccessKey.slice(0, -1)}${credentials.secretAccessKey.endsWith('A') ? 'B' : 'A'}`;
  const result = await awsCli({ ...credentials, secretAccessKey: wrongSecret });
  t.not(result.code, 0);
  t.match(
    result.stderr,
    'An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided.',
  );
  t.notOk(result.stderr.includes(credentials.secretAccessKey));
});

t.test('a wrong session token is refused with InvalidClientTokenId', async (t) => {
  const credentials = await createSession('wrong-token');
  const other = await createSession('other');
  const result = await awsCli({ ...credentials, sessionToken: other.sessionToken });
  t.not(result.code, 0);
  t.match(result.stderr, 'An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.');
});

t.test('the SDK for JavaScript v3 works too, and expired credentials get ExpiredToken', async (t) => {
  const { accessKeyId, secretAccessKey, sessionToken } = await createSession('sdk-session');
  const credentials = { accessKeyId, secretAccessKey, sessionToken };
  const client = new STSClient({ region: REGION, endpoint: emulator.url, credentials, maxAttempts: 1 });
  t.teardown(() => client.destroy());
  const identity = await client.send(new GetCallerIdentityCommand({}));
  t.equal(identity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sts-role/sdk-session`);
  t.equal(identity.Account, ACCOUNT);

  // The emulator's clock moves past the 900 s lifetime; the SDK signs with the real clock,
  // which is what the emulator would call skew, so sign from the emulator's "now" instead.
  clockMs += 901_000;
  const late = new STSClient({ region: REGION, endpoint: emulator.url, credentials, maxAttempts: 1, systemClockOffset: 901_000 });
  t.teardown(() => late.destroy());
  await t.rejects(late.send(new GetCallerIdentityCommand({})), { name: 'ExpiredToken', message: 'The security token included in the request is expired' });
});

t.test('an unsigned request gets the STS XML error', async (t) => {
  const response = await fetch(`${emulator.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  });
  t.equal(response.status, 403);
  t.match(await response.text(), /<Code>MissingAuthenticationToken<\/Code>\s*<Message>Request is missing Authentication Token<\/Message>/);
});

interface StsAnswer {
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/** A small SigV4 HMAC signer of our own (not the emulator's helpers), for requests the SDKs will not make. */
async function signedStsCall(
  credentials: IssuedCredentials,
  body: string,
  options: { readonly date?: Date; readonly region?: string; readonly service?: string; readonly algorithm?: string } = {},
): Promise<StsAnswer> {
  const hex = (data: string): string => createHash('sha256').update(data).digest('hex');
  const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const amzDate = (options.date ?? new Date(clockMs)).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const region = options.region ?? REGION;
  const service = options.service ?? 'sts';
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    host: new URL(emulator.url).host,
    'x-amz-date': amzDate,
    'x-amz-security-token': credentials.sessionToken,
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', '', names.map((name) => `${name}:${headers[name] ?? ''}\n`).join(''), names.join(';'), hex(body)].join('\n');
  const scope = `${amzDate.slice(0, 8)}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hex(canonical)}`;
  const signingKey = [amzDate.slice(0, 8), region, service, 'aws4_request'].reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${credentials.secretAccessKey}`);
  const signature = hmac(signingKey, stringToSign).toString('hex');
  headers['authorization'] = `${options.algorithm ?? 'AWS4-HMAC-SHA256'} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  const response = await fetch(`${emulator.url}/`, { method: 'POST', headers: sent, body });
  const xml = await response.text();
  const unescape = (text: string | undefined): string | undefined => text?.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
  return { status: response.status, code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1], message: unescape(/<Message>([^<]*)<\/Message>/.exec(xml)?.[1]) };
}

t.test('STS refusals: clock skew, scope, algorithm, action', async (t) => {
  const credentials = await createSession('refusals');
  const amz = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const sixMinutes = 6 * 60_000;
  const fiveMinutes = 5 * 60_000;
  const rows: ReadonlyArray<readonly [string, Promise<StsAnswer>, StsAnswer]> = [
    ['a correctly signed call works', signedStsCall(credentials, 'Action=GetCallerIdentity&Version=2011-06-15'), { status: 200, code: undefined, message: undefined }],
    [
      'signed six minutes ago',
      signedStsCall(credentials, 'Action=GetCallerIdentity&Version=2011-06-15', { date: new Date(clockMs - sixMinutes) }),
      { status: 403, code: 'SignatureDoesNotMatch', message: `Signature expired: ${amz(clockMs - sixMinutes)} is now earlier than ${amz(clockMs - fiveMinutes)} (${amz(clockMs)} - 5 min.)` },
    ],
    [
      'signed six minutes ahead',
      signedStsCall(credentials, 'Action=GetCallerIdentity&Version=2011-06-15', { date: new Date(clockMs + sixMinutes) }),
      { status: 403, code: 'SignatureDoesNotMatch', message: `Signature not yet current: ${amz(clockMs + sixMinutes)} is still later than ${amz(clockMs + fiveMinutes)} (${amz(clockMs)} + 5 min.)` },
    ],
    ['scoped to another service', signedStsCall(credentials, 'Action=GetCallerIdentity', { service: 'iam' }), { status: 403, code: 'SignatureDoesNotMatch', message: "Credential should be scoped to correct service: 'sts'. " }],
    ['scoped to another region', signedStsCall(credentials, 'Action=GetCallerIdentity', { region: 'eu-west-1' }), { status: 403, code: 'SignatureDoesNotMatch', message: "Credential should be scoped to a valid region, not 'eu-west-1'. " }],
    ['another algorithm', signedStsCall(credentials, 'Action=GetCallerIdentity', { algorithm: 'AWS4-HMAC-SHA512' }), { status: 400, code: 'IncompleteSignature', message: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'." }],
    ['no Action', signedStsCall(credentials, 'Version=2011-06-15'), { status: 400, code: 'MissingAction', message: 'Missing Action' }],
    ['another Action', signedStsCall(credentials, 'Action=AssumeRole&Version=2011-06-15'), { status: 400, code: 'InvalidAction', message: 'Could not find operation AssumeRole for version 2011-06-15' }],
    ['another Version', signedStsCall(credentials, 'Action=GetCallerIdentity&Version=2099-01-01'), { status: 400, code: 'InvalidAction', message: 'Could not find operation GetCallerIdentity for version 2099-01-01' }],
  ];
  for (const [what, call, expected] of rows) t.same(await call, expected, what);
});

t.test('no secret or token reached the log', async (t) => {
  t.ok(logLines.some((line) => line.startsWith('STS 403 SignatureDoesNotMatch')));
  t.ok(issuedSecrets.length >= 10);
  for (const secret of issuedSecrets) t.notOk(logLines.some((line) => line.includes(secret)), 'secret absent from the log');
});
