import t from 'tap';
import { isolatedEnv, runCli } from '../helpers/cli.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';
import { join } from 'node:path';

/** doctor through the real CLI: a token key (one login, said first), --json, exit codes, usage errors. */
const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
const env = isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin });
const certificate = `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`;

t.test('a token certificate: the login is announced, the chain comes from the token, the path reaches the root', async (t) => {
  const result = await runCli(['doctor', '--certificate', certificate, '--pkcs11-lib', fixture.module, '--trust-anchor-certificate', join(fixture.dir, 'pki', 'root-ca.pem'), '--json'], { env });
  t.equal(result.code, 0, result.stderr);
  // runCli has no terminal, so the notice falls back to stderr.
  t.equal(result.stderr, 'doctor: opening the key logs in to the token (one PIN entry; no signature is made)\n');
  t.notMatch(result.stdout, fixture.pin);
  const checks = JSON.parse(result.stdout) as { check: string; status: string; detail: string }[];
  t.same(checks.filter((check) => check.status === 'fail'), []);
  t.same(checks.find((check) => check.check === 'token'), { check: 'token', status: 'ok', detail: `token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) in ${fixture.module} present; PIN not blocked, no failed tries reported` });
  t.match(checks.find((check) => check.check === 'key'), { status: 'ok', detail: /^pkcs11:token=roles-anywhere-test.*object=ec-p256.* opens \(EC\)$/ });
  t.match(checks.find((check) => check.check === 'chain sent'), { detail: '1 of 1 candidate(s), at most 5: "CN=Test Intermediate CA,O=roles-anywhere-signer tests"' });
  t.match(checks.find((check) => check.check === 'chain trust'), { status: 'ok', detail: 'reaches the trust anchor "CN=Test Root CA,O=roles-anywhere-signer tests" in 3 step(s)' });
});

// The path line is the emulator's own (emulator/path-validation.ts), names in its order.
t.test('an anchor that did not issue the chain: exit 1 and the missing issuer named', async (t) => {
  const result = await runCli(['doctor', '--certificate', certificate, '--pkcs11-lib', fixture.module, '--trust-anchor-certificate', join(fixture.dir, 'pki', 'unrelated-ca.pem')], { env });
  t.equal(result.code, 1);
  t.match(result.stdout, /^fail {2}chain trust: no path from "O=roles-anywhere-signer tests, CN=Test Intermediate CA" to the trust anchor: the issuer "O=roles-anywhere-signer tests, CN=Test Root CA" is neither a trust-anchor certificate nor in X-Amz-X509-Chain -> add the missing issuer to --intermediates \(or to the token\), or register its CA as the trust anchor$/m);
});

t.test('a wrong PIN is one failed check, not retried, and the other checks still run', async (t) => {
  const result = await runCli(['doctor', '--certificate', certificate, '--pkcs11-lib', fixture.module], { env: isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: '999999' }) });
  t.equal(result.code, 1);
  t.match(result.stdout, `fail  key: wrong PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) (CKR_PIN_INCORRECT; the token reports few tries left) -> it was not retried; check the PIN and its source, then run again\n`);
  t.match(result.stdout, 'fail  certificate: no certificate to check -> pass --certificate (a PEM/DER file or a pkcs11: URI)\n');
  t.notMatch(result.stdout + result.stderr, /999999/);

  // The failed login left the token's "count low" flag: the next run says so, read without a login.
  const after = await runCli(['doctor', '--offline', '--certificate', certificate, '--pkcs11-lib', fixture.module, '--json'], { env });
  const checks = JSON.parse(after.stdout) as { check: string; status: string; detail: string; fix?: string }[];
  t.same(checks.find((check) => check.check === 'token'), {
    check: 'token',
    status: 'warn',
    detail: `token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) in ${fixture.module}: the token reports few PIN tries left`,
    fix: 'check the PIN and its source before the next run; a successful login resets the counter',
  });
  t.equal(after.code, 0, 'a warning alone exits 0');
});

t.test('usage errors exit 2 with one line', async (t) => {
  const result = await runCli(['doctor', '--cert-selector', '{}'], { env });
  t.equal(result.code, 1);
  t.equal(result.stderr, 'roles-anywhere-signer: OS certificate stores (--cert-selector, --use-latest-expiring-certificate) are not supported yet: pass --certificate and --private-key (a file, pkcs11: URI or TPM key)\n');
  const unknown = await runCli(['doctor', '--trust-anchor-cert', 'x'], { env });
  t.equal(unknown.code, 2);
});

t.test('the request flags doctor used to ignore: one line each, worded as credential-process refuses them', async (t) => {
  const arns = ['--trust-anchor-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/ta', '--profile-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p', '--role-arn', 'arn:aws:iam::123456789012:role/r'];
  const flags = ['--session-duration', '60', '--role-session-name', 'a b', '--timeout', '999', '--no-verify-ssl'];
  const result = await runCli(['doctor', '--offline', ...arns, ...flags], { env });
  t.equal(result.code, 1);
  t.match(result.stdout, [
    'fail  session duration: --session-duration 60 is out of range -> use whole seconds from 900 to 43200',
    'fail  role session name: refused by the service\'s rule -> --role-session-name must be 2 to 64 characters of letters, digits and _+=,.@-',
    'fail  timeout: --timeout 999 is out of range -> use seconds from 1 to 300',
    'warn  tls verification: off (--no-verify-ssl): any endpoint certificate is accepted -> for test endpoints only: drop --no-verify-ssl and trust the endpoint\'s CA with AWS_CA_BUNDLE instead',
  ].join('\n'));

  // credential-process refuses each with the same words: the rule lives in one place.
  for (const [flag, value, line] of [
    ['--session-duration', '60', '--session-duration 60 is out of range: use whole seconds from 900 to 43200'],
    ['--role-session-name', 'a b', '--role-session-name must be 2 to 64 characters of letters, digits and _+=,.@-'],
    ['--timeout', '999', '--timeout 999 is out of range: use seconds from 1 to 300'],
  ] as const) {
    const refused = await runCli(['credential-process', '--certificate', certificate, '--pkcs11-lib', fixture.module, ...arns, flag, value], { env });
    t.equal(refused.stderr, `roles-anywhere-signer: ${line}\n`, flag);
  }

  const good = await runCli(['doctor', '--offline', ...arns, '--role-session-name', 'ci-build'], { env });
  t.match(good.stdout, 'ok    session duration: 3600 s requested; the profile\'s own durationSeconds caps it when shorter (credentials last the lesser of the two)\n');
  t.match(good.stdout, 'ok    role session name: "ci-build"; the profile must accept a role session name (acceptRoleSessionName), else the service answers "Not authorized to set roleSessionName."\n');

  const notANumber = await runCli(['doctor', '--offline', '--session-duration', 'an hour'], { env });
  t.equal(notANumber.code, 2, 'not a number at all is a usage error, as for credential-process');
  t.equal(notANumber.stderr, 'roles-anywhere-signer: --session-duration "an hour" is not a whole number of seconds (900 to 43200)\n');
});
