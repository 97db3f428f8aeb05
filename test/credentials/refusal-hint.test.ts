import t from 'tap';
import { refusalHint, type RefusalFacts } from '../../src/credentials/refusal-hint.js';
import { createCertificateAuthority, generateKeyPair, issueLeafCertificate } from '../../src/emulator/pki.js';

const now = new Date('2026-06-01T12:00:00.000Z');
const root = await createCertificateAuthority({ subject: 'CN=Root', keyAlgorithm: 'EC-P256', now });
const issuing = await createCertificateAuthority({ subject: 'CN=Issuing', keyAlgorithm: 'EC-P256', issuer: root, now });
const leaf = await issueLeafCertificate({ issuer: issuing, subject: 'CN=app', publicKey: generateKeyPair('EC-P256').publicKey, now });
const facts: RefusalFacts = {
  certificate: leaf.certificateDer,
  chain: [issuing.certificateDer],
  region: 'eu-west-1',
  trustAnchorArn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/ta',
  profileArn: 'arn:aws:rolesanywhere:eu-west-1:111122223333:profile/p',
  now,
};

t.test('each service refusal gets the most likely local cause', async (t) => {
  t.equal(refusalHint('Untrusted Signing Certificate', facts),
    'the chain sent (1 intermediate(s)) ends at "CN=Issuing", issued by "CN=Root": the trust anchor must hold that CA (or pass the missing intermediates with --intermediates); run roles-anywhere-signer doctor with the same flags and --trust-anchor-certificate <the anchor\'s CA bundle> to see the path');
  t.equal(refusalHint('Signature expired: 20260601T115000Z is now earlier than 20260601T115500Z (20260601T120000Z - 5 min.)', facts),
    'this machine\'s clock reads 2026-06-01T12:00:00Z (UTC); the service allows only minutes of skew: synchronise the clock (timedatectl, chronyc tracking)');
  t.match(refusalHint('Invalid signature', facts), /^the signature was verified against the certificate before it was sent/);
  t.equal(refusalHint('Trust anchor not found.', facts),
    'the request went to region eu-west-1: check that arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/ta exists there (aws rolesanywhere list-trust-anchors --region eu-west-1) and that --region and --endpoint agree with it');
  t.match(refusalHint('Profile not found', facts), /^the request went to region eu-west-1: check that arn:aws:rolesanywhere:eu-west-1:111122223333:profile\/p exists there/);
  t.match(refusalHint('Unable to assume role for x. Role is not associated with the profile.', facts), /^add the role to the profile's roles/);
  t.equal(refusalHint('Not authorized to set roleSessionName.', facts), undefined, 'no guess where the message says it all');
});
