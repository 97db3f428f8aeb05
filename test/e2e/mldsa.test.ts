import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { runCli } from '../helpers/cli.js';
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

function assertCleanFailure(t: Test, result: { code: number | null; stdout: string; stderr: string }, expectedLine: string | RegExp): void {
  t.equal(result.code, 1, 'exit code 1');
  t.equal(result.stdout, '', 'stdout is empty');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  t.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
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
