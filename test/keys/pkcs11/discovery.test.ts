import t from 'tap';
import { describeCertificate } from '../../../src/certs/load.js';
import { SignerError } from '../../../src/errors.js';
import { formatIdentityList, listPkcs11Identities } from '../../../src/keys/pkcs11/identities.js';
import { formatInventory, listPkcs11Inventory } from '../../../src/keys/pkcs11/inventory.js';
import { buildSoftHsmFixture, storeRawCertificate } from './softhsm-fixture.js';
import { noTerminal } from './support.js';

const fixture = await buildSoftHsmFixture(t, ['ec-p256', 'always-auth']);
const { tokenUri } = fixture;
// Tokens may hold odd objects: listings show it for what it is, read-certificate-data skips it.
storeRawCertificate(fixture, fixture.tokenLabel, { label: 'not-a-certificate', id: '0b', value: Buffer.from('not DER at all') });

t.test('read-certificate-data: one matching identity, in the reference helper\'s layout plus issuer, serial and validity', async (t) => {
  const identities = await listPkcs11Identities({ uri: `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, modulePath: fixture.module, secretIO: noTerminal() });
  t.equal(identities.length, 1);
  const about = describeCertificate(fixture.key('ec-p256').certificate);
  const uri = `${tokenUri};object=ec-p256;type=cert;id=%01`;
  t.equal(identities[0]?.uri, uri);
  t.same(identities[0]?.certificate, fixture.key('ec-p256').certificate);
  t.equal(formatIdentityList(identities), [
    'Matching identities',
    `1) ${about.fingerprintSha256} "CN=ec-p256,O=roles-anywhere-signer tests"`,
    '\tIssuer: CN=Test Intermediate CA,O=roles-anywhere-signer tests',
    `\tSerial: ${about.serialNumberDecimal} (0x${about.serialNumberHex})`,
    `\tValid: ${about.notBefore.toISOString()} to ${about.notAfter.toISOString()}`,
    '\tKey: EC P-256',
    `\tURI: ${uri}`,
    '',
  ].join('\n'));
});

t.test('read-certificate-data: every certificate a broad URI matches, soonest expiry first', async (t) => {
  const identities = await listPkcs11Identities({ uri: `pkcs11:token=${fixture.tokenLabel}`, modulePath: fixture.module, secretIO: noTerminal() });
  t.same(identities.map((i) => i.subject).sort(), [
    'CN=Attestation ec-p256',
    'CN=Test Intermediate CA,O=roles-anywhere-signer tests',
    'CN=Unrelated CA,O=Somebody Else',
    'CN=always-auth,O=roles-anywhere-signer tests',
    'CN=ec-p256,O=roles-anywhere-signer tests',
    'CN=orphan,O=roles-anywhere-signer tests',
  ], 'every certificate, and not the object that holds none');
  const expiries = identities.map((i) => i.notAfter.getTime());
  t.same(expiries, [...expiries].sort((a, b) => a - b), 'sorted by expiry');
  t.equal(formatIdentityList([]), 'No matching identities\n');
  const nothing = `pkcs11:token=${fixture.tokenLabel};object=nothing`;
  t.same(await listPkcs11Identities({ uri: nothing, modulePath: fixture.module, secretIO: noTerminal({ ROLES_ANYWHERE_PIN: fixture.pin }) }), [], 'nothing matches, even after login: an empty list');
});

t.test('read-certificate-data logs in only when one token matched and showed nothing', async (t) => {
  const empty = `pkcs11:token=${fixture.otherTokenLabel}`;
  t.same(await listPkcs11Identities({ uri: empty, modulePath: fixture.module, secretIO: noTerminal({ ROLES_ANYWHERE_PIN: fixture.pin }) }), [], 'logged in, still nothing');
  let error: unknown;
  try {
    await listPkcs11Identities({ uri: empty, modulePath: fixture.module, secretIO: noTerminal() });
  } catch (caught) {
    error = caught;
  }
  t.ok(error instanceof SignerError);
  t.equal((error as SignerError).code, 'PKCS11_PIN_REQUIRED');
  t.equal((error as SignerError).message, `PIN for token "${fixture.otherTokenLabel}" (serial ${fixture.otherTokenSerial}) is needed but there is no terminal to ask on: set ROLES_ANYWHERE_PIN, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal`);
});

t.test('list: tokens, certificates and public keys as URIs; private keys after --login', async (t) => {
  const [anonymous] = await listPkcs11Inventory({ modulePaths: [fixture.module], login: false, secretIO: noTerminal() });
  t.equal(anonymous?.path, fixture.module);
  t.equal(anonymous?.library, 'SoftHSM "Implementation of PKCS11" 2.6');
  t.same(anonymous?.tokens.map((token) => token.uri), [tokenUri, fixture.otherTokenUri], 'both tokens, sorted by label');
  const objects = anonymous?.tokens[0]?.objects ?? [];
  t.same(objects.filter((o) => o.type === 'private'), [], 'SoftHSM hides private keys before login');
  t.same(objects.find((o) => o.type === 'cert' && o.label === 'ec-p256'), {
    type: 'cert',
    label: 'ec-p256',
    idHex: '01',
    uri: `${tokenUri};object=ec-p256;type=cert;id=%01`,
    detail: `CN=ec-p256,O=roles-anywhere-signer tests, issued by CN=Test Intermediate CA,O=roles-anywhere-signer tests, expires ${describeCertificate(fixture.key('ec-p256').certificate).notAfter.toISOString()}`,
  });
  t.same(objects.find((o) => o.type === 'public' && o.label === 'ec-p256')?.detail, 'EC P-256');
  t.same(objects.find((o) => o.label === 'not-a-certificate'), {
    type: 'cert',
    label: 'not-a-certificate',
    idHex: '0b',
    uri: `${tokenUri};object=not-a-certificate;type=cert;id=%0B`,
    detail: 'not an X.509 certificate',
  });

  const [withLogin] = await listPkcs11Inventory({ modulePaths: [fixture.module], filter: `pkcs11:token=${fixture.tokenLabel}`, login: true, secretIO: noTerminal({ ROLES_ANYWHERE_PIN: fixture.pin }) });
  t.same(withLogin?.tokens.map((token) => token.uri), [tokenUri], 'the filter keeps one token');
  t.same(withLogin?.tokens[0]?.objects.filter((o) => o.type === 'private'), [
    { type: 'private', label: 'ec-p256', idHex: '01', uri: `${tokenUri};object=ec-p256;type=private;id=%01`, detail: 'EC P-256' },
    { type: 'private', label: 'always-auth', idHex: '05', uri: `${tokenUri};object=always-auth;type=private;id=%05`, detail: 'EC P-256, PIN before every signature' },
  ]);

  const text = formatInventory(withLogin === undefined ? [] : [withLogin]);
  t.match(text, `Module ${fixture.module}: SoftHSM "Implementation of PKCS11" 2.6\n`);
  t.match(text, `  Token "${fixture.tokenLabel}" (SoftHSM v2, serial ${fixture.tokenSerial}) in slot `);
  t.match(text, `    private key "always-auth" id 05: EC P-256, PIN before every signature\n      ${tokenUri};object=always-auth;type=private;id=%05\n`);
  t.notMatch(text, fixture.pin, 'never a PIN');
  t.notMatch(formatInventory([anonymous!]), fixture.pin);
  t.match(formatInventory([anonymous!]), '(not logged in: private keys may be hidden; add --login with a URI that matches this token)');
});

t.test('list --login refuses to try one PIN on several tokens, or on none', async (t) => {
  await t.rejects(listPkcs11Inventory({ modulePaths: [fixture.module], login: true, secretIO: noTerminal({ ROLES_ANYWHERE_PIN: fixture.pin }) }), {
    code: 'USAGE',
    message: `--login needs a URI that matches exactly one token, so a PIN is never tried on the wrong one (matched: ${tokenUri} or ${fixture.otherTokenUri}): pass one of them`,
  });
  await t.rejects(listPkcs11Inventory({ modulePaths: [fixture.module], filter: 'pkcs11:token=no-such-token', login: true, secretIO: noTerminal({ ROLES_ANYWHERE_PIN: fixture.pin }) }), {
    code: 'USAGE',
    message: '--login needs a URI that matches exactly one token, so a PIN is never tried on the wrong one (matched: none): run `roles-anywhere-signer list` without --login to see the tokens',
  });
});
