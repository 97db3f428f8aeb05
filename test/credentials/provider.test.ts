import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromRolesAnywhere, type RolesAnywhereProviderOptions } from '../../src/index.js';
import { startRig, ACCOUNT, type Rig } from '../helpers/emulator-rig.js';
import { Relay } from '../serve/relay.js';

const MINUTE = 60_000;
let offset = 0;
const clock = () => new Date(Date.now() + offset);

let rig: Rig;
let base: RolesAnywhereProviderOptions;
t.before(async () => {
  rig = await startRig({ clock });
  const id = await rig.issueFileIdentity('sdk-client');
  base = {
    certificate: id.certificatePath,
    privateKey: id.keyPath,
    intermediates: id.chainPath,
    trustAnchorArn: rig.trustAnchorArn,
    profileArn: rig.profileArn,
    roleArn: rig.roleArn,
    endpoint: rig.url,
    clock,
  };
});
t.teardown(() => rig.close());
t.afterEach(() => {
  offset = 0;
});

t.test('@aws-sdk/client-sts signs with fromRolesAnywhere credentials and the emulator accepts them', async (t) => {
  const credentials = fromRolesAnywhere(base);
  t.teardown(() => credentials.close());
  const sts = new STSClient({ region: 'us-east-1', endpoint: rig.url, credentials });
  t.teardown(() => sts.destroy());
  const before = rig.stats.createSession;
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  t.equal(identity.Account, ACCOUNT);
  t.match(identity.Arn, /^arn:aws:sts::123456789012:assumed-role\/e2e-role\/.+/);
  await sts.send(new GetCallerIdentityCommand({}));
  t.equal(rig.stats.createSession, before + 1, 'the SDK reuses the credentials until they near expiry');
});

t.test('the identity has expiration and accountId set; concurrent first calls share one CreateSession', async (t) => {
  const credentials = fromRolesAnywhere(base);
  t.teardown(() => credentials.close());
  const before = rig.stats.createSession;
  const identities = await Promise.all(Array.from({ length: 20 }, () => credentials()));
  t.equal(rig.stats.createSession, before + 1, 'one CreateSession for 20 concurrent calls');
  const first = identities[0];
  t.ok(identities.every((identity) => identity.accessKeyId === first?.accessKeyId));
  t.equal(first?.accountId, ACCOUNT);
  t.ok(first?.expiration instanceof Date);
  t.ok(Math.abs((first?.expiration?.getTime() ?? 0) - clock().getTime() - 3600_000) < 120_000, 'about an hour');
  t.match(first?.accessKeyId, /^ASIA/);
  t.type(first?.sessionToken, 'string');
});

t.test('refreshed ahead of expiry: inside the SDK window a call gets new credentials', async (t) => {
  const credentials = fromRolesAnywhere(base);
  t.teardown(() => credentials.close());
  const first = await credentials();
  const before = rig.stats.createSession;
  offset = 40 * MINUTE;
  t.equal((await credentials()).accessKeyId, first.accessKeyId, 'before the refresh window: same credentials, no call');
  t.equal(rig.stats.createSession, before);
  offset = 56 * MINUTE;
  const calls = await Promise.all(Array.from({ length: 10 }, () => credentials()));
  t.equal(rig.stats.createSession, before + 1, 'one refresh for 10 calls');
  t.ok(calls.every((identity) => identity.accessKeyId !== first.accessKeyId), 'within 5 minutes of expiry the callers waited for the new credentials');
});

t.test('no endpoint: the network error, and the next call inside the interval does not retry', async (t) => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  const credentials = fromRolesAnywhere({ ...base, endpoint: `http://127.0.0.1:${port}` });
  t.teardown(() => credentials.close());
  const message = `cannot reach http://127.0.0.1:${port}/sessions (ECONNREFUSED): check --endpoint, the network and any proxy settings`;
  const first = await credentials().catch((error: unknown) => error);
  t.match(first, { code: 'NETWORK_ERROR', message });
  t.equal(await credentials().catch((error: unknown) => error), first, 'inside the retry interval: the same error, no new attempt');
});

t.test('a failed refresh returns the still-valid credentials; once they are gone, a clear error', async (t) => {
  const relay = new Relay(new URL(rig.url));
  const endpoint = await relay.listen();
  t.teardown(() => relay.close());
  const credentials = fromRolesAnywhere({ ...base, endpoint });
  t.teardown(() => credentials.close());
  const first = await credentials();
  relay.cut();
  offset = 56 * MINUTE;
  const kept = await credentials();
  t.equal(kept.accessKeyId, first.accessKeyId, 'the refresh failed; the credentials (4 minutes left) are returned');
  offset = 60 * MINUTE;
  await t.rejects(credentials(), { code: 'NETWORK_ERROR', message: /^cannot reach http:\/\/127\.0\.0\.1:\d+\/sessions/ });
  relay.restore();
  offset += MINUTE;
  const recovered = await credentials();
  t.not(recovered.accessKeyId, first.accessKeyId, 'back once the endpoint is');
});

t.test('ARN typos are reported at once, before any key is opened', async (t) => {
  t.throws(() => fromRolesAnywhere({ ...base, roleArn: 'arn:aws:iam::12345:role/x' }), {
    code: 'ARN_INVALID',
    message: '--role-arn "arn:aws:iam::12345:role/x" is not a valid ARN (the account ID must be 12 digits): expected the form arn:aws:iam::123456789012:role/NAME',
  });
});

t.test('a wrong key password is not retried: later calls repeat the error without touching the key', async (t) => {
  const { generateKeyPair } = await import('../../src/emulator/pki.js');
  const { createPrivateKey } = await import('node:crypto');
  const pair = generateKeyPair('EC-P256');
  const encrypted = createPrivateKey(pair.privateKeyPem).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right-password' });
  const issued = await rig.issueCertificateFor('encrypted-client', pair.publicKey);
  const keyPath = join(rig.dir, 'encrypted.key.pem');
  await writeFile(keyPath, encrypted, { mode: 0o600 });
  let reads = 0;
  const credentials = fromRolesAnywhere({
    ...base,
    certificate: issued.certificatePath,
    privateKey: keyPath,
    pkcs8Password: { source: `|echo wrong-password; echo >> ${join(rig.dir, 'password-reads')}` },
  });
  t.teardown(() => credentials.close());
  const first = await credentials().catch((error: unknown) => error);
  t.match(first, { code: 'KEY_PASSWORD_INCORRECT' });
  const second = await credentials().catch((error: unknown) => error);
  t.equal(second, first, 'the same error, not a second attempt');
  reads = (await import('node:fs')).readFileSync(join(rig.dir, 'password-reads'), 'utf8').split('\n').length - 1;
  t.equal(reads, 1, 'the password source was read once');
});

t.test('timeoutSeconds bounds the whole CreateSession call, as --timeout does, and is checked up front', async (t) => {
  t.throws(() => fromRolesAnywhere({ ...base, timeoutSeconds: 0 }), { code: 'CONFIG_INVALID', message: '--timeout 0 is out of range: use seconds from 1 to 300' });
  // An endpoint that accepts connections and never answers.
  let connections = 0;
  const sockets: Array<{ destroy(): void }> = [];
  const silent = createServer((socket) => {
    connections++;
    sockets.push(socket);
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const credentials = fromRolesAnywhere({ ...base, endpoint: `http://127.0.0.1:${port}`, timeoutSeconds: 1 });
  t.teardown(() => credentials.close());
  await t.rejects(credentials(), { code: 'NETWORK_ERROR', message: `no answer from http://127.0.0.1:${port}/sessions within the 1 s deadline (--timeout): check --endpoint and your network or proxy` });
  t.equal(connections, 1, 'the deadline left no time for a retry');
});
