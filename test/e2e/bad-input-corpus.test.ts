import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';
import { startRig } from '../helpers/emulator-rig.js';
import { isolatedEnv, runCli, type RunResult } from '../helpers/cli.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';

/**
 * The bad-input corpus: every way a user, a file, the environment, a TPM socket, an endpoint
 * or a server answer can be wrong, run through the real CLI with and without --debug. Each run
 * must fail cleanly: exit != 0, nothing on stdout, at most 3 lines on stderr, no stack trace,
 * no terminal control characters, none of the secrets used anywhere in the output, and it must
 * end by itself (the kill timeout is a hang detector, generous on purpose).
 */
interface BadInput {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Expected somewhere in the first stderr line: keeps the message meaningful, not just short. */
  readonly says?: RegExp;
  /** The command has no --debug flag (emulate): run once. */
  readonly noDebugFlag?: true;
}

const KILL_AFTER_MS = 90_000;
const CONCURRENCY = 6;
const SECRETS = {
  pkcs8Password: 'pw-S3CRET-pkcs8-5510',
  tpmPassword: 'pw-S3CRET-tpm-7731',
  wrongPin: 'S3CRET-wrong-pin-887766',
  endpointPassword: 'pw-S3CRET-endpoint-3390',
  answerSecretKey: 'S3CRET-answer-secret-access-key',
  answerToken: 'S3CRET-answer-session-token',
  containerToken: 'S3CRET-container-token-4410',
};
const secretValues = Object.values(SECRETS);

// Two of the runs wait out the TPM (30 s) and CreateSession (3 x 10 s) timeouts by design.
t.setTimeout(600_000);

const rig = await startRig();
t.teardown(() => rig.close());
const dir = rig.dir;
const id = await rig.issueFileIdentity('corpus-client');
const other = await rig.issueFileIdentity('corpus-other');
// Distinctive PINs, so that finding one in the output cannot be a coincidence.
process.env['FIXTURE_PIN'] = 'S3CRET-pin-6502';
process.env['FIXTURE_SO_PIN'] = 'S3CRET-so-pin-8181';
const softhsm = await buildSoftHsmFixture(t, ['ec-p256']);
for (const secret of [softhsm.pin, softhsm.soPin]) secretValues.push(secret);

// --- files --------------------------------------------------------------------------------
const file = async (name: string, content: string | Uint8Array): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const empty = await file('empty', '');
const garbage = await file('garbage', 'this is not a certificate\n\u001b]0;owned\u0007\u202eexe.txt\n');
const badBase64 = await file('bad-base64.pem', '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n');
const sparse = await file('huge', '');
await truncate(sparse, 2 * 1024 ** 3);
const directory = join(dir, 'a-directory');
await mkdir(directory);
const publicKey = await file('public.pem', generateKeyPair('EC-P256').publicKey.export({ type: 'spki', format: 'pem' }).toString());
const opensshKey = await file('openssh.key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
const tss2Garbage = await file('tss2.pem', '-----BEGIN TSS2 PRIVATE KEY-----\nMAMCAQE=\n-----END TSS2 PRIVATE KEY-----\n');
const encryptedKey = await file('encrypted.pem', createPrivateKey(generateKeyPair('EC-P256').privateKeyPem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: SECRETS.pkcs8Password }).toString());
const expiredPair = generateKeyPair('EC-P256');
const expired = await issueLeafCertificate({ issuer: rig.intermediate, subject: 'CN=expired', publicKey: expiredPair.publicKey, notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') });
const expiredCert = await file('expired.pem', expired.certificatePem);
const expiredKey = await file('expired.key', expiredPair.privateKeyPem);
const pinFile = await file('pin', `${SECRETS.wrongPin}\n`);
const emptyPinFile = await file('empty-pin', '');

// --- servers that misbehave ---------------------------------------------------------------
const answerCredentials = (overrides: Record<string, unknown>): string =>
  JSON.stringify({ credentialSet: [{ credentials: { accessKeyId: 'ASIAHOSTILEHOSTILE00', secretAccessKey: SECRETS.answerSecretKey, sessionToken: SECRETS.answerToken, expiration: new Date(Date.now() + 3600_000).toISOString(), ...overrides } }] });
const answers: Record<string, { status: number; body: string; headers?: Record<string, string> }> = {
  '/not-json': { status: 201, body: 'not json' },
  '/null': { status: 201, body: 'null' },
  '/null-set': { status: 201, body: '{"credentialSet":[null]}' },
  '/array': { status: 201, body: '[]' },
  '/empty-set': { status: 201, body: '{"credentialSet":[]}' },
  '/expired': { status: 201, body: answerCredentials({ expiration: '2020-01-01T00:00:00Z' }) },
  '/thirty-seconds': { status: 201, body: answerCredentials({ expiration: new Date(Date.now() + 30_000).toISOString() }) },
  '/expiration-one': { status: 201, body: answerCredentials({ expiration: '1' }) },
  '/negative-year': { status: 201, body: answerCredentials({ expiration: '-000001-01-01T00:00:00Z' }) },
  '/month-13': { status: 201, body: answerCredentials({ expiration: '2030-13-01T00:00:00Z' }) },
  '/crlf-key-id': { status: 201, body: answerCredentials({ accessKeyId: 'ASIA\r\nX-Injected: 1' }) },
  '/lf-token': { status: 201, body: answerCredentials({ sessionToken: `${SECRETS.answerToken}\nmore` }) },
  '/esc-secret': { status: 201, body: answerCredentials({ secretAccessKey: `${SECRETS.answerSecretKey}\u001b[2J` }) },
  '/number-key-id': { status: 201, body: answerCredentials({ accessKeyId: 42 }) },
  '/403-escapes': { status: 403, body: JSON.stringify({ message: 'Untrusted\u001b]0;pwned\u0007 Signing\u001b[31m Certificate\u0007' }) },
  '/403-bidi': { status: 403, body: JSON.stringify({ message: 'Access denied for \u202eexe.txt\u202c user' }) },
  '/403-huge': { status: 403, body: JSON.stringify({ message: 'denied '.repeat(3000) }) },
  '/403-type-header': { status: 403, body: '{}', headers: { 'x-amzn-errortype': 'AccessDenied\u009b31m' } },
  '/400': { status: 400, body: JSON.stringify({ __type: 'ValidationException', message: 'Invalid durationSeconds\r\nsecond line' }) },
  '/404': { status: 404, body: JSON.stringify({ __type: 'ResourceNotFoundException', message: 'Trust anchor not found.' }) },
  '/429': { status: 429, body: JSON.stringify({ message: 'Rate exceeded' }) },
  '/500-html': { status: 500, body: '<html><body>\u001b[5mInternal error</body></html>' },
  '/302': { status: 302, body: '', headers: { location: 'http://127.0.0.1:1/elsewhere' } },
  '/200-not-201': { status: 200, body: answerCredentials({}) },
};
const hostile: HttpServer = createServer((request, response) => {
  const answer = answers[Object.keys(answers).find((prefix) => request.url?.startsWith(`${prefix}/`)) ?? ''] ?? { status: 500, body: '{}' };
  response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  response.end(answer.body);
});
hostile.listen(0, '127.0.0.1');
await once(hostile, 'listening');
const hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;

// Accepts and never answers: a hung TPM, a black-holed endpoint.
const silentSockets = new Set<Socket>();
const silent: TcpServer = createTcpServer((socket) => {
  silentSockets.add(socket);
  socket.on('close', () => silentSockets.delete(socket));
});
silent.listen(0, '127.0.0.1');
await once(silent, 'listening');
const silentPort = (silent.address() as AddressInfo).port;

// A port where nothing listens.
const closed: TcpServer = createTcpServer();
closed.listen(0, '127.0.0.1');
await once(closed, 'listening');
const closedPort = (closed.address() as AddressInfo).port;
await new Promise<void>((resolve) => closed.close(() => resolve()));

t.teardown(() => {
  hostile.closeAllConnections();
  hostile.close();
  for (const socket of silentSockets) socket.destroy();
  silent.close();
});

// --- the corpus -----------------------------------------------------------------------------
const [, ta, , profile, , role] = rig.sessionFlags;
const session = rig.sessionFlags;
const good = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];
const cp = (...args: string[]): string[] => ['credential-process', ...args];
const withEndpoint = (path: string): string[] => cp(...good, '--trust-anchor-arn', ta as string, '--profile-arn', profile as string, '--role-arn', role as string, '--endpoint', `${hostileUrl}${path}`);
const anchor = (value: string) => cp(...good, '--trust-anchor-arn', value, '--profile-arn', profile as string, '--role-arn', role as string, '--endpoint', rig.url);
const profileArn = (value: string) => cp(...good, '--trust-anchor-arn', ta as string, '--profile-arn', value, '--role-arn', role as string, '--endpoint', rig.url);
const roleArn = (value: string) => cp(...good, '--trust-anchor-arn', ta as string, '--profile-arn', profile as string, '--role-arn', value, '--endpoint', rig.url);
const certificate = (path: string) => cp('--certificate', path, '--private-key', id.keyPath, ...session);
const privateKey = (path: string) => cp('--certificate', id.certificatePath, '--private-key', path, ...session);
const intermediates = (path: string) => cp('--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', path, ...session);
const tokenUri = `${softhsm.tokenUri};object=${softhsm.key('ec-p256').label}`;
const pkcs11 = (uri: string, ...extra: string[]) => cp('--certificate', uri, '--pkcs11-lib', softhsm.module, ...extra, ...session);
const tpm = (tcti: string, key = 'handle:0x81000001') => cp('--certificate', id.certificatePath, '--private-key', key, '--tpm-tcti', tcti, '--no-tpm-key-password', ...session);
const endpoint = (url: string) => cp(...good, '--trust-anchor-arn', ta as string, '--profile-arn', profile as string, '--role-arn', role as string, '--endpoint', url);

const corpus: BadInput[] = [
  // flags
  { name: 'unknown flag', args: cp('--nope') },
  { name: 'unknown command', args: ['credential-proces'] },
  { name: 'flag without its value', args: cp('--certificate') },
  { name: 'duration not a number', args: cp(...good, ...session, '--session-duration', 'abc'), says: /session-duration/ },
  { name: 'duration too short', args: cp(...good, ...session, '--session-duration', '899'), says: /out of range/ },
  { name: 'duration too long', args: cp(...good, ...session, '--session-duration', '43201'), says: /out of range/ },
  { name: 'duration with a sign', args: cp(...good, ...session, '--session-duration', '+3600') },
  { name: 'role session name too short', args: cp(...good, ...session, '--role-session-name', 'a'), says: /role-session-name/ },
  { name: 'role session name with a space', args: cp(...good, ...session, '--role-session-name', 'bad name') },
  { name: 'role session name with a newline', args: cp(...good, ...session, '--role-session-name', 'name\nx') },
  { name: 'missing --trust-anchor-arn', args: cp(...good, '--profile-arn', profile as string, '--role-arn', role as string), says: /--trust-anchor-arn is required/ },
  { name: 'missing --profile-arn', args: cp(...good, '--trust-anchor-arn', ta as string, '--role-arn', role as string), says: /--profile-arn is required/ },
  { name: 'missing --role-arn', args: cp(...good, '--trust-anchor-arn', ta as string, '--profile-arn', profile as string), says: /--role-arn is required/ },
  { name: 'no certificate or key', args: cp(...session) },
  { name: '--cert-selector', args: cp(...session, '--cert-selector', '{"x":1}'), says: /not supported/ },
  { name: '--system-store-name', args: cp(...session, '--system-store-name', 'MY'), says: /Windows/ },
  { name: '--use-latest-expiring-certificate', args: cp(...session, '--use-latest-expiring-certificate') },
  { name: '--tpm-key-password with --no-tpm-key-password', args: cp(...good, ...session, '--tpm-key-password', SECRETS.tpmPassword, '--no-tpm-key-password'), says: /cannot be used together/ },
  { name: '--no-tpm-key-password then --tpm-key-password', args: cp(...good, ...session, '--no-tpm-key-password', '--tpm-key-password', SECRETS.tpmPassword), says: /cannot be used together/ },
  { name: '--pkcs8-password with --tpm-key-password', args: cp(...good, ...session, '--pkcs8-password', SECRETS.pkcs8Password, '--tpm-key-password', SECRETS.tpmPassword), says: /cannot be used together/ },
  { name: '--region not a region', args: cp(...good, ...session, '--region', 'Narnia'), says: /not a region/ },
  { name: '--region other than the trust anchor\'s', args: cp(...good, ...session, '--region', 'eu-west-1'), says: /trust anchor's region/ },
  { name: '--region with an escape', args: cp(...good, ...session, '--region', 'us-east-1\u001b[2J') },
  { name: 'sign-string --format xml', args: ['sign-string', ...good.slice(0, 4), '--format', 'xml'] },
  { name: 'sign-string --digest MD5', args: ['sign-string', ...good.slice(0, 4), '--digest', 'MD5'] },
  { name: 'sign-string without a key', args: ['sign-string'] },
  { name: 'read-certificate-data without a certificate', args: ['read-certificate-data'] },
  { name: 'serve --port out of range', args: ['serve', ...good, ...session, '--port', '70000'] },
  { name: 'serve --port not a number', args: ['serve', ...good, ...session, '--port', 'abc'] },
  { name: 'serve --hop-limit 0', args: ['serve', ...good, ...session, '--hop-limit', '0'] },
  { name: 'serve --container-token-file without --container', args: ['serve', ...good, ...session, '--container-token-file', join(dir, 'token')] },
  { name: 'serve --container-token-file a directory', args: ['serve', ...good, ...session, '--container', '--port', '0', '--container-token-file', directory], says: /directory/ },
  { name: 'serve --container-token-file a FIFO', args: ['serve', ...good, ...session, '--container', '--port', '0', '--container-token-file', fifo], says: /not a regular file/ },
  { name: 'emulate with a missing config', args: ['emulate', '--config', join(dir, 'missing.json')], noDebugFlag: true },
  { name: 'emulate with a garbage config', args: ['emulate', '--config', garbage], says: /not valid JSON/, noDebugFlag: true },
  { name: 'emulate with a FIFO config', args: ['emulate', '--config', fifo], says: /FIFO/, noDebugFlag: true },
  { name: 'emulate with /dev/zero as config', args: ['emulate', '--config', '/dev/zero'], says: /character device/, noDebugFlag: true },
  // ARNs
  { name: 'trust anchor ARN with a trailing quote', args: anchor(`${ta as string}"`), says: /quote/ },
  { name: 'trust anchor ARN with a trailing newline', args: anchor(`${ta as string}\n`), says: /line break/ },
  { name: 'trust anchor ARN with a space', args: anchor(`${ta as string} `) },
  { name: 'trust anchor ARN of another service', args: anchor('arn:aws:iam::123456789012:trust-anchor/x') },
  { name: 'trust anchor ARN that is a profile', args: anchor(profile as string), says: /trust-anchor\// },
  { name: 'trust anchor ARN with a short account', args: anchor('arn:aws:rolesanywhere:us-east-1:12345:trust-anchor/x'), says: /12 digits/ },
  { name: 'trust anchor ARN with a bidi override', args: anchor(`arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/\u202eabc`) },
  { name: 'trust anchor ARN empty', args: anchor('') },
  { name: 'profile ARN in another region', args: profileArn('arn:aws:rolesanywhere:eu-west-1:123456789012:profile/p'), says: /eu-west-1/ },
  { name: 'profile ARN with a trailing quote', args: profileArn(`${profile as string}'`) },
  { name: 'role ARN with a region', args: roleArn('arn:aws:iam:us-east-1:123456789012:role/x'), says: /empty region/ },
  { name: 'role ARN with an embedded newline', args: roleArn('arn:aws:iam::123456789012:role/a\nb') },
  { name: 'role ARN with an escape sequence', args: roleArn('arn:aws:iam::123456789012:role/a\u001b]0;x\u0007') },
  // files
  { name: 'certificate missing', args: certificate(join(dir, 'missing.pem')), says: /does not exist/ },
  { name: 'certificate a directory', args: certificate(directory) },
  { name: 'certificate a FIFO with no writer', args: certificate(fifo), says: /FIFO/ },
  { name: 'certificate /dev/zero', args: certificate('/dev/zero'), says: /character device/ },
  { name: 'certificate empty', args: certificate(empty) },
  { name: 'certificate garbage with escapes', args: certificate(garbage) },
  { name: 'certificate with bad base64', args: certificate(badBase64) },
  { name: 'certificate a sparse 2 GiB file', args: certificate(sparse), says: /larger than/ },
  { name: 'certificate that is a key file', args: certificate(id.keyPath) },
  { name: 'certificate expired', args: cp('--certificate', expiredCert, '--private-key', expiredKey, ...session), says: /expired/i },
  { name: 'certificate of another key', args: cp('--certificate', other.certificatePath, '--private-key', id.keyPath, ...session) },
  { name: 'private key missing', args: privateKey(join(dir, 'missing.key')), says: /does not exist/ },
  { name: 'private key a directory', args: privateKey(directory) },
  { name: 'private key a FIFO with no writer', args: privateKey(fifo), says: /FIFO/ },
  { name: 'private key /dev/zero', args: privateKey('/dev/zero'), says: /character device/ },
  { name: 'private key empty', args: privateKey(empty) },
  { name: 'private key garbage', args: privateKey(garbage) },
  { name: 'private key a public key', args: privateKey(publicKey), says: /public key/ },
  { name: 'private key a certificate', args: privateKey(id.certificatePath) },
  { name: 'private key OpenSSH', args: privateKey(opensshKey), says: /OpenSSH/ },
  { name: 'private key a damaged TSS2 file', args: privateKey(tss2Garbage) },
  { name: 'private key encrypted, no password', args: privateKey(encryptedKey), says: /password/ },
  { name: 'private key encrypted, wrong password', args: [...privateKey(encryptedKey), '--pkcs8-password', `${SECRETS.pkcs8Password}-wrong`], says: /incorrect/ },
  { name: 'private key a sparse 2 GiB file', args: privateKey(sparse), says: /larger than/ },
  { name: 'intermediates missing', args: intermediates(join(dir, 'missing-chain.pem')) },
  { name: 'intermediates a FIFO', args: intermediates(fifo), says: /FIFO/ },
  { name: 'intermediates /dev/zero', args: intermediates('/dev/zero'), says: /character device/ },
  { name: 'intermediates garbage', args: intermediates(garbage) },
  // pkcs11: URIs
  { name: 'pkcs11 URI with a bad escape', args: pkcs11('pkcs11:object=%zz') },
  { name: 'pkcs11 URI with a short escape', args: pkcs11('pkcs11:id=%0') },
  { name: 'pkcs11 URI with an unknown type', args: pkcs11('pkcs11:type=bogus') },
  { name: 'pkcs11 URI with a repeated attribute', args: pkcs11('pkcs11:token=a;token=b') },
  { name: 'pkcs11 URI with pin-value and pin-source', args: pkcs11(`pkcs11:object=x?pin-value=${SECRETS.wrongPin}&pin-source=file:/x`) },
  { name: 'pkcs11 URI with a missing module-path', args: cp('--certificate', 'pkcs11:object=x?module-path=/nonexistent/module.so', ...session) },
  { name: 'pkcs11 library missing', args: cp('--certificate', tokenUri, '--pkcs11-lib', '/nonexistent/lib.so', ...session) },
  { name: 'pkcs11 library a FIFO', args: cp('--certificate', tokenUri, '--pkcs11-lib', fifo, ...session), says: /FIFO/ },
  { name: 'pkcs11 library a directory', args: cp('--certificate', tokenUri, '--pkcs11-lib', directory, ...session), says: /directory/ },
  { name: 'pkcs11 library /dev/zero', args: cp('--certificate', tokenUri, '--pkcs11-lib', '/dev/zero', ...session), says: /character device/ },
  { name: 'pkcs11 library not a library', args: cp('--certificate', tokenUri, '--pkcs11-lib', garbage, ...session) },
  { name: 'pkcs11 token not present', args: pkcs11('pkcs11:token=no-such-token;object=x'), env: { ROLES_ANYWHERE_PIN: softhsm.pin } },
  { name: 'pkcs11 object not present', args: pkcs11(`${softhsm.tokenUri};object=nope`), env: { ROLES_ANYWHERE_PIN: softhsm.pin } },
  { name: 'pkcs11 URI that is not one', args: pkcs11('pkcs12:object=x') },
  { name: 'pkcs11 URI with a control character', args: pkcs11('pkcs11:object=a\u001b[2Jb') },
  // PINs
  { name: 'wrong PIN in the URI', args: pkcs11(`${tokenUri}?pin-value=${SECRETS.wrongPin}`), says: /PIN/ },
  { name: 'wrong PIN from the environment', args: pkcs11(tokenUri), env: { ROLES_ANYWHERE_PIN: SECRETS.wrongPin }, says: /PIN/ },
  { name: 'wrong PIN from a pin-source file', args: pkcs11(`${tokenUri}?pin-source=file:${pinFile}`), says: /PIN/ },
  { name: 'PIN source missing', args: pkcs11(`${tokenUri}?pin-source=file:${join(dir, 'no-pin')}`) },
  { name: 'PIN source a FIFO', args: pkcs11(`${tokenUri}?pin-source=file:${fifo}`), says: /FIFO/ },
  { name: 'PIN source /dev/zero', args: pkcs11(`${tokenUri}?pin-source=/dev/zero`), says: /character device/ },
  { name: 'PIN source empty', args: pkcs11(`${tokenUri}?pin-source=file:${emptyPinFile}`) },
  { name: 'PIN command fails', args: pkcs11(`${tokenUri}?pin-source=%7Cfalse`) },
  { name: 'no PIN and no terminal', args: pkcs11(tokenUri) },
  // environment
  { name: 'wrong key password from the environment', args: privateKey(encryptedKey), env: { ROLES_ANYWHERE_PKCS8_PASSWORD: `${SECRETS.pkcs8Password}-env` }, says: /incorrect/ },
  { name: 'TCTI variable with an unknown kind', args: cp('--certificate', id.certificatePath, '--private-key', 'handle:0x81000001', ...session), env: { ROLES_ANYWHERE_TPM_TCTI: 'bogus:thing' } },
  { name: 'TPM2TOOLS_TCTI with a bad port', args: cp('--certificate', id.certificatePath, '--private-key', 'handle:0x81000001', ...session), env: { TPM2TOOLS_TCTI: 'swtpm:host=127.0.0.1,port=abc' } },
  { name: 'update into /proc', args: ['update', ...good, ...session, '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: '/proc/ras-corpus/credentials' }, says: /cannot create the directory/ },
  { name: 'update into a directory', args: ['update', ...good, ...session, '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: directory } },
  { name: 'update into a FIFO', args: ['update', ...good, ...session, '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: fifo }, says: /FIFO/ },
  { name: 'update through a file', args: ['update', ...good, ...session, '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: join(garbage, 'credentials') } },
  { name: 'serve --container with an empty token variable and no terminal', args: ['serve', ...good, ...session, '--container', '--port', '0'], env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: '' } },
  { name: 'proxy that refuses, --with-proxy', args: [...endpoint('https://rolesanywhere.us-east-1.amazonaws.com'), '--with-proxy'], env: { HTTPS_PROXY: `http://127.0.0.1:${closedPort}` } },
  // TPM transports
  { name: 'TPM handle that is not persistent', args: tpm(`swtpm:host=127.0.0.1,port=${closedPort}`, 'handle:0x80000001'), says: /persistent/ },
  { name: 'TPM handle not hex', args: tpm(`swtpm:host=127.0.0.1,port=${closedPort}`, 'handle:zzz') },
  { name: 'TPM port refusing', args: tpm(`swtpm:host=127.0.0.1,port=${closedPort}`), says: /ECONNREFUSED/ },
  { name: 'TPM socket that never answers', args: tpm(`swtpm:host=127.0.0.1,port=${silentPort}`), says: /did not answer/ },
  { name: 'TPM port speaking HTTP', args: tpm(`swtpm:host=127.0.0.1,port=${(hostile.address() as AddressInfo).port}`), says: /not a TPM 2.0 response/ },
  { name: 'TPM unix socket missing', args: tpm(`unix:${join(dir, 'no-socket')}`) },
  { name: 'TPM unix socket a FIFO', args: tpm(`unix:${fifo}`) },
  { name: 'TPM device /dev/null', args: tpm('device:/dev/null') },
  { name: 'TPM device missing', args: tpm('device:/dev/tpmrm9') },
  { name: 'TPM TCTI unknown', args: tpm('mssim:host=x') },
  { name: 'TPM port out of range', args: tpm('swtpm:host=127.0.0.1,port=99999') },
  { name: 'TPM key file a FIFO', args: cp('--certificate', id.certificatePath, '--private-key', fifo, '--tpm-tcti', `swtpm:host=127.0.0.1,port=${closedPort}`, ...session) },
  // endpoints
  { name: 'endpoint ftp', args: endpoint('ftp://example.com'), says: /http/ },
  { name: 'endpoint not a URL', args: endpoint('http://[bad') },
  { name: 'endpoint with a password', args: endpoint(`https://user:${SECRETS.endpointPassword}@127.0.0.1:1/`) },
  { name: 'endpoint with a query', args: endpoint(`${rig.url}?x=1`) },
  { name: 'endpoint refusing connections', args: endpoint(`http://127.0.0.1:${closedPort}`), says: /ECONNREFUSED/ },
  { name: 'endpoint that never answers', args: endpoint(`http://127.0.0.1:${silentPort}`), says: /no answer/ },
  { name: 'endpoint TLS to a plain HTTP server', args: endpoint(`https://127.0.0.1:${(hostile.address() as AddressInfo).port}`) },
  { name: 'endpoint with an escape', args: endpoint('http://exa\u001bmple.com') },
  { name: 'endpoint that is not Roles Anywhere (emulator STS path)', args: endpoint(`${rig.url}/nothing-here`) },
  // server answers: the same validation in every mode
  { name: 'update --once with a null credentialSet entry', args: ['update', ...withEndpoint('/null-set').slice(1), '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'update-credentials') }, says: /answered 201 but/ },
  { name: 'update --once with credentials already expired', args: ['update', ...withEndpoint('/expired').slice(1), '--once'], env: { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'update-credentials') }, says: /already past/ },
  { name: 'serve with a CR/LF in the access key id', args: ['serve', ...withEndpoint('/crlf-key-id').slice(1), '--port', '0'], says: /accessKeyId/ },
  { name: 'serve --container with an expiration of "1"', args: ['serve', ...withEndpoint('/expiration-one').slice(1), '--port', '0', '--container'], env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: SECRETS.containerToken }, says: /ISO-8601/ },
  ...Object.keys(answers).map((path): BadInput => ({ name: `server answers ${path.slice(1)}`, args: withEndpoint(path) })),
];

t.ok(corpus.length >= 120, `${corpus.length} bad inputs`);

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

async function runCase(input: BadInput, debug: boolean): Promise<RunResult> {
  return runCli(debug ? [...input.args, '--debug'] : input.args, { env: isolatedEnv({ SOFTHSM2_CONF: softhsm.conf, ...input.env }), timeoutMs: KILL_AFTER_MS });
}

/**
 * Runs CONCURRENCY at a time (most wait on sockets, not on the CPU), except those that touch the
 * SoftHSM token: its file store is not safe for several processes at once (a wrong PIN rewrites
 * the token's files, and a process reading the slot list meanwhile can miss the token), so they
 * run one after another.
 */
const runs = corpus.flatMap((input) => (input.noDebugFlag === true ? [false] : [false, true]).map((debug) => ({ input, debug })));
const results = new Array<RunResult>(runs.length);
const usesToken = (run: (typeof runs)[number]): boolean => run.input.args.some((arg) => /^pkcs11:/i.test(arg)) || run.input.args.some((arg) => arg.includes('softhsm'));
await t.test(`${runs.length} runs of the CLI with bad input`, async (t) => {
  const shared = runs.flatMap((run, index) => (usesToken(run) ? [] : [index]));
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let at = next++; at < shared.length; at = next++) {
        const index = shared[at] as number;
        const run = runs[index] as (typeof runs)[number];
        results[index] = await runCase(run.input, run.debug);
      }
    }),
  );
  for (const [index, run] of runs.entries()) {
    if (usesToken(run)) results[index] = await runCase(run.input, run.debug);
  }
  t.equal(results.filter((result) => result !== undefined).length, runs.length, 'every run finished');
});

for (const [index, { input, debug }] of runs.entries()) {
  await t.test(`${input.name}${debug ? ' (--debug)' : ''}`, async (t) => {
    const result = results[index] as RunResult;
    const output = `${result.stdout}${result.stderr}`;
    t.not(result.code, null, 'ended by itself (not killed)');
    t.not(result.code, 0, 'exit code is non-zero');
    t.equal(result.stdout, '', 'nothing on stdout');
    // --debug adds its step log ("debug: ..."); the error itself stays within 3 lines.
    const all = result.stderr.split('\n').filter((line) => line !== '');
    const lines = all.filter((line) => !line.startsWith('debug: '));
    t.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} error line(s) on stderr: ${result.stderr}`);
    t.ok(all.length <= 60, `${all.length} stderr lines in all`);
    t.notMatch(result.stderr, /\n\s+at |^\s+at /m, 'no stack trace');
    t.notMatch(result.stderr, /unexpected error/, 'a known failure, not an unexpected one');
    t.notOk(CONTROL.test(output), 'no control or bidi characters');
    t.same(secretValues.filter((secret) => output.includes(secret)).length, 0, 'none of the secrets in the output');
    if (input.says !== undefined) t.match(lines[0] ?? '', input.says, 'says what is wrong');
  });
}
