import t from 'tap';
import { checkRequest, checkSessionFlags, doctorExitCode, formatCheckResults, RENEW_WARNING_DAYS, checkLeaf } from '../../src/doctor/checks.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const anchor = 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/ta';
const profile = 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/p';
const role = 'arn:aws:iam::111122223333:role/app';

t.test('request: good ARNs in one region are ok', async (t) => {
  t.same(checkRequest({ trustAnchorArn: anchor, profileArn: profile, roleArn: role }).map((r) => [r.check, r.status]), [
    ['trust-anchor ARN', 'ok'], ['profile ARN', 'ok'], ['role ARN', 'ok'], ['regions', 'ok'],
  ]);
});

t.test('request: regions that differ, a --region that differs, another account, a malformed ARN', async (t) => {
  const otherRegion = checkRequest({ trustAnchorArn: anchor, profileArn: profile.replace('eu-west-1', 'us-east-1'), roleArn: role });
  t.same(otherRegion.find((r) => r.check === 'regions'), { check: 'regions', status: 'fail', detail: 'the trust anchor is in eu-west-1 but the profile is in us-east-1', fix: 'use a profile from the trust anchor\'s region' });
  const flagRegion = checkRequest({ trustAnchorArn: anchor, profileArn: profile, roleArn: role, region: 'us-east-2' });
  t.same(flagRegion.find((r) => r.check === 'regions'), { check: 'regions', status: 'fail', detail: '--region us-east-2 but the trust anchor and profile are in eu-west-1', fix: 'drop --region or set it to eu-west-1' });
  const accounts = checkRequest({ trustAnchorArn: anchor, profileArn: profile, roleArn: 'arn:aws:iam::444455556666:role/app' });
  t.match(accounts.find((r) => r.check === 'accounts'), { status: 'warn', detail: 'the ARNs name different accounts (111122223333, 444455556666)' });
  const malformed = checkRequest({ trustAnchorArn: profile });
  t.same(malformed[0], {
    check: 'trust-anchor ARN',
    status: 'fail',
    detail: `--trust-anchor-arn "${profile}" is not a valid ARN (the resource must be trust-anchor/...)`,
    fix: 'expected the form arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/UUID',
  });
  t.same(malformed.slice(1).map((r) => [r.check, r.status, r.fix]), [['profile ARN', 'warn', 'pass --profile-arn to check it'], ['role ARN', 'warn', 'pass --role-arn to check it']]);
});

t.test('validity: days left, and a warning when renewal is near', async (t) => {
  const now = new Date('2026-06-01T00:00:00Z');
  const ca = await createCertificateAuthority({ subject: 'CN=CA', keyAlgorithm: 'EC-P256', now });
  const key = generateKeyPair('EC-P256');
  const soon = await issueLeafCertificate({ issuer: ca, subject: 'CN=soon', publicKey: key.publicKey, now, notAfter: new Date(now.getTime() + (RENEW_WARNING_DAYS - 1) * 86_400_000 + 1000) });
  t.same(checkLeaf(soon.certificateDer, now).find((r) => r.check === 'certificate validity'), {
    check: 'certificate validity',
    status: 'warn',
    detail: 'valid 2026-05-31T23:55:00Z to 2026-06-14T00:00:01Z (13 days left)',
    fix: 'renew the certificate before it expires (enroll a new key, or have your CA reissue it)',
  });
  const later = await issueLeafCertificate({ issuer: ca, subject: 'CN=later', publicKey: key.publicKey, now });
  t.match(checkLeaf(later.certificateDer, now).find((r) => r.check === 'certificate validity'), { status: 'ok', detail: 'valid 2026-05-31T23:55:00Z to 2027-05-31T23:55:00Z (364 days left)' });
});

t.test('exit code and text: 1 only with a fail; fixes after ->', async (t) => {
  t.equal(doctorExitCode([{ check: 'a', status: 'ok', detail: 'x' }, { check: 'b', status: 'warn', detail: 'y', fix: 'z' }]), 0);
  t.equal(doctorExitCode([{ check: 'a', status: 'fail', detail: 'x' }]), 1);
  t.equal(formatCheckResults([{ check: 'a', status: 'ok', detail: 'x' }, { check: 'b', status: 'fail', detail: 'y', fix: 'z' }]), 'ok    a: x\nfail  b: y -> z\n');
});

t.test('session flags: the rules credential-process applies, each a line with its fix', async (t) => {
  t.same(checkSessionFlags({}), [], 'nothing given, nothing said');
  t.same(checkSessionFlags({ durationSeconds: 3600, roleSessionName: 'build-42@ci', timeoutSeconds: 20 }), [
    { check: 'session duration', status: 'ok', detail: '3600 s requested; the profile\'s own durationSeconds caps it when shorter (credentials last the lesser of the two)' },
    { check: 'role session name', status: 'ok', detail: '"build-42@ci"; the profile must accept a role session name (acceptRoleSessionName), else the service answers "Not authorized to set roleSessionName."' },
    { check: 'timeout', status: 'ok', detail: '20 s for the whole CreateSession call, retries included' },
  ]);
  t.same(checkSessionFlags({ durationSeconds: 899, roleSessionName: 'a', timeoutSeconds: 301, insecureSkipVerify: true }), [
    { check: 'session duration', status: 'fail', detail: '--session-duration 899 is out of range', fix: 'use whole seconds from 900 to 43200' },
    { check: 'role session name', status: 'fail', detail: 'refused by the service\'s rule', fix: '--role-session-name must be 2 to 64 characters of letters, digits and _+=,.@-' },
    { check: 'timeout', status: 'fail', detail: '--timeout 301 is out of range', fix: 'use seconds from 1 to 300' },
    { check: 'tls verification', status: 'warn', detail: 'off (--no-verify-ssl): any endpoint certificate is accepted', fix: 'for test endpoints only: drop --no-verify-ssl and trust the endpoint\'s CA with AWS_CA_BUNDLE instead' },
  ]);
  // The bounds themselves, and the longest name the rule allows.
  t.same(checkSessionFlags({ durationSeconds: 900 }).map((r) => r.status), ['ok']);
  t.same(checkSessionFlags({ durationSeconds: 43200 }).map((r) => r.status), ['ok']);
  t.same(checkSessionFlags({ durationSeconds: 43201 }).map((r) => r.status), ['fail']);
  t.same(checkSessionFlags({ roleSessionName: 'x'.repeat(64) }).map((r) => r.status), ['ok']);
  t.same(checkSessionFlags({ roleSessionName: 'x'.repeat(65) }).map((r) => r.status), ['fail']);
  t.same(checkSessionFlags({ roleSessionName: 'has space' }).map((r) => r.status), ['fail']);
});
