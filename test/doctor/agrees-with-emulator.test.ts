import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startEmulator } from '../../src/emulator/index.js';
import {
  createCertificateAuthority,
  derToPem,
  generateKeyPair,
  issueLeafCertificate,
  type CertificateAuthority,
  type IssueLeafCertificateOptions,
} from '../../src/emulator/pki.js';
import { runDoctor } from '../../src/doctor/run.js';
import type { CheckResult } from '../../src/doctor/checks.js';
import { send, signTestRequest } from '../emulator/x509-request.js';

/**
 * For each certificate and chain rule the emulator enforces: the emulator, over real HTTP,
 * refuses a CreateSession signed with the bad certificate, and doctor, given the same files,
 * fails the check for that rule with the very words of the emulator's reason.
 */
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const TRUST_ANCHOR = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/ta-main`;
const PROFILE = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/p-main`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;
const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const DAY = 86_400_000;

const root = await createCertificateAuthority({ subject: 'CN=Doctor Test Root', keyAlgorithm: 'EC-P256', now });
const intermediate = await createCertificateAuthority({ subject: 'CN=Doctor Test Issuing', keyAlgorithm: 'EC-P256', issuer: root, now });
const sha1Intermediate = await createCertificateAuthority({ subject: 'CN=SHA-1 Issuing', keyAlgorithm: 'EC-P256', issuer: root, signatureHash: 'SHA-1', now });
const stranger = await createCertificateAuthority({ subject: 'CN=Someone Else', keyAlgorithm: 'EC-P256', now });
const key = generateKeyPair('EC-P256');

const logLines: string[] = [];
const emulator = await startEmulator(
  {
    region: REGION,
    accountId: ACCOUNT,
    trustAnchors: [{ arn: TRUST_ANCHOR, certificates: [root.certificatePem] }],
    profiles: [{ arn: PROFILE, roleArns: [ROLE], durationSeconds: 3600 }],
  },
  { port: 0, host: '127.0.0.1', clock: () => now, log: (line) => logLines.push(line) },
);
t.teardown(() => emulator.close());
const dir = await mkdtemp(join(tmpdir(), 'ras-doctor-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await writeFile(join(dir, 'key.pem'), key.privateKeyPem, { mode: 0o600 });
await writeFile(join(dir, 'anchor.pem'), root.certificatePem);

interface Case {
  readonly name: string;
  readonly leaf: Partial<IssueLeafCertificateOptions>;
  readonly issuer?: CertificateAuthority;
  /** Sent in X-Amz-X509-Chain and given to doctor as --intermediates. */
  readonly chain: readonly CertificateAuthority[];
  readonly reason: string;
  readonly check: string;
}

const cases: Case[] = [
  { name: 'expired', leaf: { notBefore: new Date(now.getTime() - 3 * DAY), notAfter: new Date(now.getTime() - DAY) }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate validity' },
  { name: 'not yet valid', leaf: { notBefore: new Date(now.getTime() + DAY), notAfter: new Date(now.getTime() + 3 * DAY) }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate validity' },
  { name: 'a CA as leaf', leaf: { basicConstraintsCA: true }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate basicConstraints' },
  { name: 'keyUsage without digitalSignature', leaf: { keyUsage: ['keyEncipherment'] }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate keyUsage' },
  { name: 'no keyUsage', leaf: { keyUsage: null }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate keyUsage' },
  { name: 'SHA-1 signature', leaf: { signatureHash: 'SHA-1' }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate signature algorithm' },
  { name: 'X.509 v1', leaf: { x509Version: 1 }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate version' },
  { name: 'empty subject', leaf: { subject: '' }, chain: [intermediate], reason: 'LEAF_REJECTED', check: 'certificate subject' },
  { name: 'intermediate not sent', leaf: {}, chain: [], reason: 'CHAIN_UNTRUSTED', check: 'chain trust' },
  { name: 'issued by another CA', leaf: {}, issuer: stranger, chain: [], reason: 'CHAIN_UNTRUSTED', check: 'chain trust' },
  { name: 'SHA-1 intermediate', leaf: {}, issuer: sha1Intermediate, chain: [sha1Intermediate], reason: 'INTERMEDIATE_REJECTED', check: 'chain trust' },
];

const asMessage = (result: CheckResult): string => (result.fix === undefined ? result.detail : `${result.detail}: ${result.fix}`);

t.test('doctor names the cause for which the emulator refuses', async (t) => {
  for (const [index, testCase] of cases.entries()) {
    const issued = await issueLeafCertificate({ issuer: testCase.issuer ?? intermediate, subject: 'CN=workload,O=Example', publicKey: key.publicKey, now, ...testCase.leaf });
    logLines.length = 0;
    const response = await send(signTestRequest({
      url: emulator.url,
      region: REGION,
      privateKey: key.privateKeyPem,
      keyType: 'EC',
      certificateDer: issued.certificateDer,
      chainDers: testCase.chain.map((ca) => ca.certificateDer),
      query: { profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TRUST_ANCHOR },
      body: '{"durationSeconds":3600}',
      signingDate: now,
    }));
    t.equal(response.status, 403, `${testCase.name}: the emulator refuses`);
    t.equal(response.json['message'], 'Untrusted Signing Certificate', `${testCase.name}: with the service's message`);
    t.equal(response.reason, testCase.reason, `${testCase.name}: reason ${testCase.reason}`);
    const logged = logLines.find((line) => line.startsWith('CreateSession 403'));
    const emulatorDetail = logged?.slice(logged.indexOf(`${testCase.reason}: `) + testCase.reason.length + 2) ?? '';

    const certificate = join(dir, `leaf-${index}.pem`);
    await writeFile(certificate, issued.certificatePem);
    const intermediates = join(dir, `chain-${index}.pem`);
    await writeFile(intermediates, testCase.chain.map((ca) => ca.certificatePem).join(''));
    const results = await runDoctor({
      certificate,
      privateKey: join(dir, 'key.pem'),
      ...(testCase.chain.length > 0 ? { intermediates } : {}),
      trustAnchorCertificate: join(dir, 'anchor.pem'),
      trustAnchorArn: TRUST_ANCHOR,
      profileArn: PROFILE,
      roleArn: ROLE,
      endpoint: emulator.url,
    }, now);
    const failed = results.filter((result) => result.status === 'fail');
    t.same(failed.map((result) => result.check), [testCase.check], `${testCase.name}: doctor fails "${testCase.check}" and nothing else`);
    const failure = failed[0];
    if (failure === undefined) continue;
    if (testCase.reason === 'LEAF_REJECTED') {
      // The emulator joins every violated rule; the one doctor names is among them, word for word.
      t.ok(`; ${emulatorDetail}; `.includes(`; ${asMessage(failure)}; `), `${testCase.name}: "${asMessage(failure)}" is the emulator's "${emulatorDetail}"`);
    } else if (testCase.reason === 'CHAIN_UNTRUSTED') {
      t.equal(failure.detail, emulatorDetail, `${testCase.name}: the same missing issuer`);
      t.match(failure.detail, /the issuer "CN=(Doctor Test Issuing|Someone Else)" is neither a trust-anchor certificate nor in X-Amz-X509-Chain/);
    } else {
      t.equal(asMessage(failure), emulatorDetail, `${testCase.name}: the same intermediate and rule`);
    }
  }
});

t.test('a good certificate: the emulator issues credentials and doctor reports no fail', async (t) => {
  const issued = await issueLeafCertificate({ issuer: intermediate, subject: 'CN=workload,O=Example', publicKey: key.publicKey, now });
  const response = await send(signTestRequest({
    url: emulator.url, region: REGION, privateKey: key.privateKeyPem, keyType: 'EC', certificateDer: issued.certificateDer,
    chainDers: [intermediate.certificateDer], query: { profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TRUST_ANCHOR }, body: '{"durationSeconds":3600}', signingDate: now,
  }));
  t.equal(response.status, 201);
  await writeFile(join(dir, 'good.pem'), issued.certificatePem);
  await writeFile(join(dir, 'good-chain.pem'), derToPem(intermediate.certificateDer));
  const results = await runDoctor({ certificate: join(dir, 'good.pem'), privateKey: join(dir, 'key.pem'), intermediates: join(dir, 'good-chain.pem'), trustAnchorCertificate: join(dir, 'anchor.pem'), trustAnchorArn: TRUST_ANCHOR, profileArn: PROFILE, roleArn: ROLE, endpoint: emulator.url }, now);
  t.same(results.filter((result) => result.status !== 'ok'), []);
  t.match(results.find((result) => result.check === 'endpoint'), { status: 'ok', detail: `${emulator.url} answers (HTTP 403)` });
  t.match(results.find((result) => result.check === 'clock'), { status: 'ok', detail: /^this machine is \d+ s (ahead of|behind) 127\.0\.0\.1:\d+ \(its Date: .+ GMT\)$/ });
  t.match(results.find((result) => result.check === 'chain trust'), { status: 'ok', detail: 'reaches the trust anchor "CN=Doctor Test Root" in 3 step(s)' });
  t.match(results.find((result) => result.check === 'chain sent'), { detail: '1 of 1 candidate(s), at most 5: "CN=Doctor Test Issuing"' });
});

t.test('clock skew against the endpoint\'s Date: the emulator refuses a request 10 minutes ahead, and doctor fails the clock', async (t) => {
  const ahead = new Date(Date.now() + 10 * 60 * 1000);
  const issued = await issueLeafCertificate({ issuer: intermediate, subject: 'CN=workload', publicKey: key.publicKey, now });
  // The emulator's clock is `now` (real time); the request is signed 10 minutes ahead.
  const response = await send(signTestRequest({
    url: emulator.url, region: REGION, privateKey: key.privateKeyPem, keyType: 'EC', certificateDer: issued.certificateDer,
    chainDers: [intermediate.certificateDer], query: { profileArn: PROFILE, roleArn: ROLE, trustAnchorArn: TRUST_ANCHOR }, body: '{"durationSeconds":3600}', signingDate: new Date(now.getTime() + 10 * 60 * 1000),
  }));
  t.equal(response.status, 403);
  t.equal(response.reason, 'CLOCK_SKEW');
  const results = await runDoctor({ trustAnchorArn: TRUST_ANCHOR, profileArn: PROFILE, roleArn: ROLE, endpoint: emulator.url, certificate: join(dir, 'good.pem'), privateKey: join(dir, 'key.pem') }, ahead);
  t.match(results.find((result) => result.check === 'clock'), {
    status: 'fail',
    detail: /^this machine is (59\d|60\d) s ahead of 127\.0\.0\.1:\d+ \(its Date: .+ GMT\)$/,
    fix: 'synchronise the clock (timedatectl set-ntp true, chronyc makestep): signatures more than about 5 minutes off are refused as "Signature expired"',
  });
});

t.test('an endpoint that does not answer is one failed check', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const results = await runDoctor({ trustAnchorArn: TRUST_ANCHOR, profileArn: PROFILE, endpoint: `http://127.0.0.1:${port}`, certificate: join(dir, 'good.pem'), privateKey: join(dir, 'key.pem') }, now);
  t.same(results.find((result) => result.check === 'endpoint'), {
    check: 'endpoint',
    status: 'fail',
    detail: `cannot reach http://127.0.0.1:${port}/ (ECONNREFUSED)`,
    fix: 'check --endpoint, the network and any proxy settings',
  });
  t.notOk(results.some((result) => result.check === 'clock'), 'no clock line without an answer');
});
