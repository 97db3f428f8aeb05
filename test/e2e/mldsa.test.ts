import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromRolesAnywhere } from '../../src/index.js';
import { startRig, ACCOUNT, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run, runCli } from '../helpers/cli.js';
import { startCli } from '../serve/process.js';
import { mlDsaFixture, pem, pkcs8, tlv } from '../keys/mldsa/fixtures.js';
import { launchEmulator } from '../../src/emulator/launch.js';
import { startEmulator } from '../../src/emulator/server.js';
import { createCertificateAuthority, generateMlDsaKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"(ASIA[A-Z0-9]{16})","SecretAccessKey":"([^"]+)","SessionToken":"([^"]+)","Expiration":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"\}$/;

let rig: Rig;
t.before(async () => {
  rig = await startRig();
});
t.teardown(async () => {
  await rig.close();
});

/** Exit 1 for bad input, 2 for a usage error (the CLI's convention). */
function assertCleanFailure(t: Test, result: { code: number | null; stdout: string; stderr: string }, expectedLine: string | RegExp, exitCode = 1): void {
  t.equal(result.code, exitCode, `exit code ${exitCode}`);
  t.equal(result.stdout, '', 'stdout is empty');
  // One line says what was wrong; a service refusal may add one `hint:` line with the likely local cause.
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  t.ok(lines.length === 1 || (lines.length === 2 && lines[1]?.startsWith('hint: ') === true), `one line on stderr, and at most a hint: ${result.stderr}`);
  if (typeof expectedLine === 'string') t.equal(lines[0], expectedLine);
  else t.match(lines[0] ?? '', expectedLine);
  t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

for (const keyAlgorithm of ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const) {
  t.test(`credential-process with an ${keyAlgorithm} key file (EC CA) gets credentials from the emulator`, async (t) => {
    const id = await rig.issueFileIdentity(`client-${keyAlgorithm.toLowerCase()}`, keyAlgorithm);
    const before = rig.stats.createSession;
    const result = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags, '--debug']);
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout, PROCESS_JSON);
    t.match(result.stderr, /signed with AWS4-X509-MLDSA \(verified against the certificate\)/, 'the MLDSA algorithm was used');
    t.equal(rig.stats.createSession, before + 1, 'exactly one CreateSession');
  });
}

t.test('an all-ML-DSA PKI: ML-DSA-87 root, ML-DSA-65 intermediate, ML-DSA-44 leaf', async (t) => {
  const root = await createCertificateAuthority({ subject: 'CN=PQ Root', keyAlgorithm: 'ML-DSA-87' });
  const intermediate = await createCertificateAuthority({ subject: 'CN=PQ Issuing', keyAlgorithm: 'ML-DSA-65', issuer: root, pathLength: 0 });
  const stranger = await createCertificateAuthority({ subject: 'CN=PQ Issuing', keyAlgorithm: 'ML-DSA-65', issuer: await createCertificateAuthority({ subject: 'CN=PQ Root', keyAlgorithm: 'ML-DSA-87' }), pathLength: 0 });
  const key = await generateMlDsaKeyPair('ML-DSA-44');
  const leaf = await issueLeafCertificate({ issuer: intermediate, subject: 'CN=pq-client', publicKey: key.publicKey });
  const forged = await issueLeafCertificate({ issuer: stranger, subject: 'CN=pq-client', publicKey: key.publicKey });
  const trustAnchorArn = 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000cc';
  const emulator = await startEmulator({
    region: 'us-east-1',
    accountId: '123456789012',
    trustAnchors: [{ arn: trustAnchorArn, certificates: [root.certificatePem], enabled: true }],
    profiles: [{ arn: rig.profileArn, roleArns: [rig.roleArn], durationSeconds: 3600, acceptRoleSessionName: true, enabled: true }],
  }, { port: 0, host: '127.0.0.1' });
  t.teardown(() => emulator.close());
  const files = { key: join(rig.dir, 'pq.key'), leaf: join(rig.dir, 'pq.pem'), forged: join(rig.dir, 'pq-forged.pem'), chain: join(rig.dir, 'pq-chain.pem'), strangerChain: join(rig.dir, 'pq-stranger.pem') };
  await writeFile(files.key, key.privateKeyPem, { mode: 0o600 });
  await writeFile(files.leaf, leaf.certificatePem);
  await writeFile(files.forged, forged.certificatePem);
  await writeFile(files.chain, intermediate.certificatePem + root.certificatePem);
  await writeFile(files.strangerChain, stranger.certificatePem);
  const flags = ['--trust-anchor-arn', trustAnchorArn, '--profile-arn', rig.profileArn, '--role-arn', rig.roleArn, '--endpoint', emulator.url];

  const ok = await runCli(['credential-process', '--certificate', files.leaf, '--private-key', files.key, '--intermediates', files.chain, ...flags]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, PROCESS_JSON);

  // Same names, other keys: only the signatures tell them apart, and the emulator checks them.
  const untrusted = await runCli(['credential-process', '--certificate', files.forged, '--private-key', files.key, '--intermediates', files.strangerChain, ...flags]);
  assertCleanFailure(t, untrusted, /Untrusted Signing Certificate/);
});

t.test('every command with an ML-DSA-65 key file', async (t) => {
  const id = await rig.issueFileIdentity('pq-commands', 'ML-DSA-65');
  const keyFlags = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];

  await t.test('credential-process --cache: the second run is served from the cache', async (t) => {
    const runtime = await mkdtemp(join(tmpdir(), 'ras-mldsa-runtime-'));
    t.teardown(() => rm(runtime, { recursive: true, force: true }));
    const env = isolatedEnv({ XDG_RUNTIME_DIR: runtime });
    const before = rig.stats.createSession;
    const cold = await runCli(['credential-process', '--cache', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(cold.code, 0, cold.stderr);
    const warm = await runCli(['credential-process', '--cache', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(warm.stdout, cold.stdout, 'byte-identical output');
    t.equal(rig.stats.createSession, before + 1, 'one CreateSession for two runs');
  });

  await t.test('update --once writes the credentials file', async (t) => {
    const file = join(rig.dir, 'pq-credentials');
    const result = await runCli(['update', '--once', '--profile', 'pq', ...keyFlags, ...rig.sessionFlags], { env: isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file }) });
    t.equal(result.code, 0, result.stderr);
    t.match(await readFile(file, 'utf8'), /^\[pq\]\naws_access_key_id = ASIA[A-Z0-9]{16}\naws_secret_access_key = \S+\naws_session_token = \S+\n/);
  });

  await t.test('serve hands the credentials to the aws CLI over IMDSv2', async (t) => {
    const server = startCli(['serve', '--port', '0', ...keyFlags, ...rig.sessionFlags], isolatedEnv());
    t.teardown(() => server.stop('SIGKILL'));
    const [line] = await server.lines(1);
    const endpoint = /^export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http:\/\/\S+\/)$/.exec(line ?? '')?.[1];
    t.ok(endpoint, `export line: ${line ?? server.stderr()}`);
    const result = await run('aws', ['sts', 'get-caller-identity', '--endpoint-url', rig.url, '--output', 'json'], {
      env: isolatedEnv({
        AWS_EC2_METADATA_DISABLED: undefined,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
        AWS_METADATA_SERVICE_TIMEOUT: '5',
        AWS_METADATA_SERVICE_NUM_ATTEMPTS: '2',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: join(rig.dir, 'no-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials'),
      }),
    });
    t.equal(result.code, 0, result.stderr);
    t.match(JSON.parse(result.stdout), { Account: ACCOUNT });
  });

  await t.test('the SDK provider gets credentials STS accepts', async (t) => {
    const credentials = fromRolesAnywhere({
      certificate: id.certificatePath,
      privateKey: id.keyPath,
      intermediates: id.chainPath,
      trustAnchorArn: rig.trustAnchorArn,
      profileArn: rig.profileArn,
      roleArn: rig.roleArn,
      endpoint: rig.url,
    });
    t.teardown(() => credentials.close());
    const sts = new STSClient({ region: 'us-east-1', endpoint: rig.url, credentials });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    t.equal(identity.Account, ACCOUNT);
  });

  await t.test('sign-string signs the bare test string deterministically; --digest is refused', async (t) => {
    const first = await runCli(['sign-string', '--format', 'text', ...keyFlags.slice(0, 4)]);
    t.equal(first.code, 0, first.stderr);
    t.match(first.stdout, /^[0-9a-f]{6618}$/, 'an ML-DSA-65 signature (3309 bytes) in hex');
    const again = await runCli(['sign-string', '--format', 'text', ...keyFlags.slice(0, 4)]);
    t.equal(again.stdout, first.stdout, 'deterministic: the same signature twice');
    const key = (await readFile(id.keyPath, 'utf8')).replace(/-----[^-]+-----|\s/g, '');
    const seed = Buffer.from(key, 'base64').subarray(-32);
    const { ml_dsa65 } = await import('@noble/post-quantum/ml-dsa.js');
    const { publicKey } = ml_dsa65.keygen(seed);
    t.ok(ml_dsa65.verify(Buffer.from(first.stdout, 'hex'), Buffer.from('AWS Roles Anywhere Credential Helper Signing Test1'), publicKey), 'verifies over the bare test string');
    assertCleanFailure(t, await runCli(['sign-string', '--digest', 'SHA384', ...keyFlags.slice(0, 4)]),
      'roles-anywhere-signer: --digest does not apply to an ML-DSA key: pure ML-DSA signs the test string itself, with no separate digest; leave --digest out', 2);
  });

  await t.test('read-certificate-data names the parameter set', async (t) => {
    const result = await runCli(['read-certificate-data', '--certificate', id.certificatePath]);
    t.equal(result.code, 0, result.stderr);
    const data = JSON.parse(result.stdout) as { keyType: string; supportedAlgorithms: string[]; serialNumber: string };
    t.equal(data.keyType, 'ML-DSA-65');
    t.same(data.supportedAlgorithms, ['ML-DSA-65']);
    t.match(data.serialNumber, /^\d+$/);
  });
});

t.test('emulate --init --key-type ml-dsa-65 gives a post-quantum starter kit that works', async (t) => {
  const dir = join(rig.dir, 'pq-kit');
  const init = await runCli(['emulate', '--init', dir, '--key-type', 'ml-dsa-65']);
  t.equal(init.code, 0, init.stderr);
  const read = await runCli(['read-certificate-data', '--certificate', join(dir, 'client.pem')]);
  t.equal((JSON.parse(read.stdout) as { keyType: string }).keyType, 'ML-DSA-65', 'the client key is ML-DSA-65');
  t.equal((JSON.parse((await runCli(['read-certificate-data', '--certificate', join(dir, 'ca.pem')])).stdout) as { keyType: string }).keyType, 'ML-DSA-65', 'and so is the CA');
  const emulator = await launchEmulator({ configPath: join(dir, 'emulator.json'), port: 0, host: '127.0.0.1' });
  t.teardown(() => emulator.close());
  const command = /credential-process (.+?) --endpoint/s.exec(init.stdout)?.[1]?.replace(/\\\n\s*/g, '').split(/\s+/) ?? [];
  const result = await runCli(['credential-process', ...command, '--endpoint', emulator.url]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, PROCESS_JSON);
  assertCleanFailure(t, await runCli(['emulate', '--init', join(rig.dir, 'other-kit'), '--key-type', 'ed25519']),
    'roles-anywhere-signer: --key-type ed25519 is not one of ec-p256, ec-p384, rsa-2048, rsa-3072, ml-dsa-44, ml-dsa-65, ml-dsa-87', 2);
});

t.test('bad ML-DSA input through the CLI: one line, exit 1, nothing on stdout', async (t) => {
  const id = await rig.issueFileIdentity('pq-bad', 'ML-DSA-65');
  const ec = await rig.issueFileIdentity('ec-for-pq', 'EC-P256');
  const fixture = mlDsaFixture('ML-DSA-65', Buffer.alloc(32, 7));
  const other = mlDsaFixture('ML-DSA-65', Buffer.alloc(32, 8));
  const write = async (name: string, der: Uint8Array): Promise<string> => {
    const path = join(rig.dir, name);
    await writeFile(path, pem('PRIVATE KEY', der), { mode: 0o600 });
    return path;
  };
  const cases: Array<[string, string, string, string]> = [
    ['seed of 16 bytes', await write('short-seed.pem', pkcs8('ML-DSA-65', tlv(0x80, fixture.seed.subarray(0, 16)))), id.certificatePath,
      'holds an ML-DSA-65 seed of 16 bytes; a seed is 32 bytes: get a fresh copy of the file, or make a new key'],
    ['expanded key of another seed', await write('mismatch.pem', pkcs8('ML-DSA-65', tlv(0x30, Buffer.concat([tlv(0x04, fixture.seed), tlv(0x04, other.expandedKey)])))), id.certificatePath,
      'holds an ML-DSA-65 seed and an expanded key that do not match: the file is damaged or was edited; make a new key'],
    ['unknown OID', await write('unknown-oid.pem', pkcs8('ML-DSA-65', tlv(0x80, fixture.seed), [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x14])), id.certificatePath,
      'holds a key of algorithm 2.16.840.1.101.3.4.3.20, which this tool cannot use: IAM Roles Anywhere accepts RSA, EC (P-256, P-384) and ML-DSA (44, 65, 87) keys'],
    ['truncated key', await write('truncated.pem', fixture.bothForm.subarray(0, 1000)), id.certificatePath,
      'holds a damaged PKCS8 private key: get a fresh copy of the file'],
  ];
  for (const [label, keyPath, certificatePath, expected] of cases) {
    const result = await runCli(['credential-process', '--certificate', certificatePath, '--private-key', keyPath, ...rig.sessionFlags]);
    assertCleanFailure(t, result, `roles-anywhere-signer: private key file ${keyPath} ${expected}`);
    t.comment(label);
  }
  const mismatch = await runCli(['credential-process', '--certificate', ec.certificatePath, '--private-key', id.keyPath, ...rig.sessionFlags]);
  assertCleanFailure(t, mismatch, /^roles-anywhere-signer: the private key \S+ does not match certificate CN=ec-for-pq \(serial \d+\): pass the certificate issued for this key$/);
  const reverse = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', ec.keyPath, ...rig.sessionFlags]);
  assertCleanFailure(t, reverse, /^roles-anywhere-signer: the private key \S+ does not match certificate CN=pq-bad \(serial \d+\): pass the certificate issued for this key$/);
});

t.test('an ML-DSA certificate with a PKCS#11 or TPM key: refused in one line before the key is opened', async (t) => {
  const id = await rig.issueFileIdentity('pq-hardware', 'ML-DSA-44');
  const pkcs11 = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', 'pkcs11:token=nope;object=nope', '--pkcs11-lib', '/nonexistent/module.so', ...rig.sessionFlags]);
  assertCleanFailure(t, pkcs11, `roles-anywhere-signer: the certificate ${id.certificatePath} is for an ML-DSA-44 key, which cannot sign through PKCS#11: no PKCS#11 module here offers ML-DSA keys (CKK_ML_DSA) and the CKM_ML_DSA mechanism of PKCS#11 3.2; keep the ML-DSA key in a file and pass it with --private-key`);
  const tpm = await runCli(['credential-process', '--certificate', id.certificatePath, '--private-key', 'handle:0x81000101', ...rig.sessionFlags], { env: isolatedEnv({ TPM_DEVICE: '/nonexistent' }) });
  assertCleanFailure(t, tpm, `roles-anywhere-signer: the certificate ${id.certificatePath} is for an ML-DSA-44 key, which cannot sign through a TPM: TPM 2.0 defines no ML-DSA keys; keep the ML-DSA key in a file and pass it with --private-key`);
});
