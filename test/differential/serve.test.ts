/**
 * `serve`: the IMDSv2 answers of the reference helper and of ours, started side by side on the
 * same key, certificate and emulator: the session token, the role list, the credentials document
 * and the refusals, compared field by field and format by format.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { findSideBySide, skipUnless } from './harness.js';
import { resultRow } from './results.js';
import { freeLoopbackPort } from '../../scripts/fixtures/free-port.js';

const found = await findSideBySide();
const skip = skipUnless(found);

const TOKEN_PATH = '/latest/api/token';
const LIST_PATH = '/latest/meta-data/iam/security-credentials/';
const EXPIRATION = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;


interface Served {
  readonly base: string;
  readonly child: ChildProcess;
}

async function startServe(command: string, args: readonly string[]): Promise<Served> {
  const port = await freeLoopbackPort();
  const child = spawn(command, [...args, '--port', String(port)], { env: isolatedEnv(), stdio: ['ignore', 'ignore', 'ignore'] });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(`${base}${TOKEN_PATH}`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '5' }, signal: AbortSignal.timeout(1000) });
      return { base, child };
    } catch {
      await delay(100);
    }
  }
  child.kill();
  throw new Error(`${command} serve did not listen on ${base} within 10 s`);
}

interface Observed {
  readonly tokenStatus: number;
  readonly tokenType: string | null;
  readonly tokenTtl: string | null;
  readonly token: string;
  readonly listStatus: number;
  readonly listType: string | null;
  readonly list: string;
  readonly credentialsStatus: number;
  readonly credentialsType: string | null;
  readonly credentials: Record<string, unknown>;
  readonly noTokenStatus: number;
  readonly badTokenStatus: number;
  readonly noTtlStatus: number;
  readonly extendedStatus: number;
}

async function observe(base: string): Promise<Observed> {
  const tokenAnswer = await fetch(`${base}${TOKEN_PATH}`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
  const token = await tokenAnswer.text();
  const withToken = { headers: { 'x-aws-ec2-metadata-token': token } };
  const listAnswer = await fetch(`${base}${LIST_PATH}`, withToken);
  const list = await listAnswer.text();
  const credentialsAnswer = await fetch(`${base}${LIST_PATH}${list}`, withToken);
  const credentials = (await credentialsAnswer.json()) as Record<string, unknown>;
  const status = async (path: string, init: RequestInit): Promise<number> => {
    const answer = await fetch(`${base}${path}`, init);
    await answer.arrayBuffer();
    return answer.status;
  };
  return {
    tokenStatus: tokenAnswer.status,
    tokenType: tokenAnswer.headers.get('content-type'),
    tokenTtl: tokenAnswer.headers.get('x-aws-ec2-metadata-token-ttl-seconds'),
    token,
    listStatus: listAnswer.status,
    listType: listAnswer.headers.get('content-type'),
    list,
    credentialsStatus: credentialsAnswer.status,
    credentialsType: credentialsAnswer.headers.get('content-type'),
    credentials,
    noTokenStatus: await status(LIST_PATH, {}),
    badTokenStatus: await status(LIST_PATH, { headers: { 'x-aws-ec2-metadata-token': `x${token}` } }),
    noTtlStatus: await status(TOKEN_PATH, { method: 'PUT' }),
    extendedStatus: await status('/latest/meta-data/iam/security-credentials-extended/', withToken),
  };
}

let rig: Rig;
let reference: Observed;
let ours: Observed;
t.before(async () => {
  if (!found.ok) return;
  rig = await startRig();
  const id = await rig.issueFileIdentity('diff-serve', 'RSA-2048');
  const args = ['serve', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags];
  const servers = await Promise.all([startServe(found.value.reference.path, args), startServe(process.execPath, [cliPath, ...args])]);
  try {
    const [referenceServed, ourServed] = servers;
    [reference, ours] = await Promise.all([observe(referenceServed.base), observe(ourServed.base)]);
  } finally {
    for (const served of servers) served.child.kill('SIGTERM');
  }
});
t.teardown(async () => {
  await rig?.close();
});

t.test('PUT /latest/api/token: same status, type and TTL echo; an opaque token of another length', { skip }, async (t) => {
  t.equal(ours.tokenStatus, 200);
  t.equal(reference.tokenStatus, 200);
  t.equal(ours.tokenType, reference.tokenType, `content type ${reference.tokenType}`);
  t.equal(ours.tokenTtl, '60');
  t.equal(reference.tokenTtl, '60');
  t.match(reference.token, /^[A-Za-z0-9+/]{100}$/, 'the reference: 100 characters of base64');
  t.match(ours.token, /^[A-Za-z0-9_-]{64}$/, 'ours: 64 characters of base64url');
  t.equal(resultRow('serve-token').outcome, 'equivalent');
});

t.test('the role list: identical', { skip }, async (t) => {
  t.equal(ours.listStatus, reference.listStatus);
  t.equal(ours.listType, reference.listType);
  t.equal(ours.list, reference.list);
  t.equal(ours.list, 'e2e-role');
  t.equal(resultRow('serve-role-list').outcome, 'identical');
});

t.test('the credentials document: the same fields; formats named where they differ', { skip }, async (t) => {
  t.equal(ours.credentialsStatus, 200);
  t.equal(reference.credentialsStatus, 200);
  t.same(Object.keys(ours.credentials).sort(), Object.keys(reference.credentials).sort(), 'the same seven fields');
  t.equal(ours.credentials['Code'], reference.credentials['Code']);
  t.equal(ours.credentials['Type'], reference.credentials['Type']);
  t.match(String(ours.credentials['Expiration']), EXPIRATION, 'ours: Expiration without fractional seconds');
  t.match(String(reference.credentials['Expiration']), EXPIRATION, 'the reference: the same format');
  t.match(String(ours.credentials['LastUpdated']), EXPIRATION, 'ours: LastUpdated without fractional seconds (botocore parses %Y-%m-%dT%H:%M:%SZ)');
  t.match(String(reference.credentials['LastUpdated']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/, 'the reference: LastUpdated with nanoseconds');
  t.equal(ours.credentialsType, 'application/json');
  t.match(reference.credentialsType ?? '', /^text\/plain/, 'the reference labels JSON as text/plain');
  t.match(String(ours.credentials['AccessKeyId']), /^ASIA[A-Z0-9]{16}$/, 'ours serves credentials');
  t.match(String(reference.credentials['AccessKeyId']), /^ASIA[A-Z0-9]{16}$/, 'the reference serves credentials of the same form');
  for (const field of ['SecretAccessKey', 'Token'] as const) {
    t.equal(typeof ours.credentials[field], 'string', `ours: ${field} is a string`);
    t.equal(typeof reference.credentials[field], 'string', `the reference: ${field} is a string`);
  }
  t.equal(resultRow('serve-credentials').outcome, 'equivalent');
});

t.test('refusals: the same 401s; ours stricter on a missing TTL and serving the extended path', { skip }, async (t) => {
  t.equal(reference.noTokenStatus, 401);
  t.equal(ours.noTokenStatus, 401);
  t.equal(reference.badTokenStatus, 401);
  t.equal(ours.badTokenStatus, 401);
  t.equal(reference.noTtlStatus, 200, 'the reference issues a token without a TTL header');
  t.equal(ours.noTtlStatus, 400, 'ours asks for the TTL header, as IMDSv2 does');
  t.equal(reference.extendedStatus, 404, 'the reference has no security-credentials-extended path');
  t.equal(ours.extendedStatus, 200, 'ours answers it, so newer SDKs need no fallback');
  t.equal(resultRow('serve-refusals').outcome, 'differs on purpose');
});
