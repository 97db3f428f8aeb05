/**
 * enroll --import-certificate with the chain (issue 12): a certificate issued by an
 * intermediate CA the emulator does not hold. With only the certificate on the token,
 * credential-process sends no chain and the emulator refuses; once the intermediate is stored
 * (from the rest of the bundle with --with-chain, or from --intermediates), credential-process
 * finds it on the token and sends it, with no --intermediates flag, and the emulator accepts.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import pkcs11js from 'pkcs11js';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';
import { execFileAsync, startEnrollRig } from './enroll-rig.js';

const { fixture, emulator, sessionFlags, PROCESS_JSON, withPin, token, assertOneLineFailure } = await startEnrollRig(t);

const pki = join(fixture.dir, 'pki');
const issuingKey = join(fixture.dir, 'issuing-ca.key');
const issuingCert = join(fixture.dir, 'issuing-ca.pem');
const caExtensions = join(fixture.dir, 'issuing-ca.ext');
const leafExtensions = join(fixture.dir, 'issued-leaf.ext');
await writeFile(caExtensions, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
await writeFile(leafExtensions, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nauthorityKeyIdentifier=keyid\n');
// An issuing CA under the fixture's root, on no token yet.
await execFileAsync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', issuingKey, '-subj', '/O=Example/CN=Enroll Issuing CA', '-out', join(fixture.dir, 'issuing-ca.csr')]);
await execFileAsync('openssl', ['x509', '-req', '-in', join(fixture.dir, 'issuing-ca.csr'), '-CA', join(pki, 'root-ca.pem'), '-CAkey', join(pki, 'root-ca.key'), '-days', '2', '-sha256', '-extfile', caExtensions, '-out', issuingCert]);

/** Enrolls a key and has the issuing CA certify it; returns the key URI, the certificate URI and the certificate file. */
async function enrollAndIssue(label: string): Promise<{ keyUri: string; certificateUri: string; certificatePath: string }> {
  const csrPath = join(fixture.dir, `${label}.csr`);
  const enrolled = await runCli(['enroll', '--private-key', `${token};object=${label}`, '--pkcs11-lib', fixture.module, '--subject', `CN=${label}`, '--out', csrPath, '--json'], { env: withPin });
  if (enrolled.code !== 0) throw new Error(enrolled.stderr);
  const { keyUri } = JSON.parse(enrolled.stdout) as { keyUri: string };
  const certificatePath = join(fixture.dir, `${label}.crt`);
  await execFileAsync('openssl', ['x509', '-req', '-in', csrPath, '-CA', issuingCert, '-CAkey', issuingKey, '-days', '2', '-sha256', '-extfile', leafExtensions, '-out', certificatePath]);
  return { keyUri, certificateUri: keyUri.replace(';type=private;', ';type=cert;'), certificatePath };
}

/** The certificate objects labelled `label`, read through the bare binding (no login: they must be public). */
function certificateObjects(label: string): { private: boolean; value: string; serial: string; subject: string; issuerOfLeaf: string }[] {
  const lib = new pkcs11js.PKCS11();
  lib.load(fixture.module);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((candidate) => lib.C_GetTokenInfo(candidate).label.trim() === fixture.tokenLabel);
    if (slot === undefined) throw new Error('no fixture token');
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_LABEL, value: label }]);
      const handles = lib.C_FindObjects(session, 10);
      lib.C_FindObjectsFinal(session);
      // The issuer name of a leaf this CA issued, as the leaf's own CKA_ISSUER holds it.
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_LABEL, value: 'chain-third' }]);
      const [leaf] = lib.C_FindObjects(session, 1);
      lib.C_FindObjectsFinal(session);
      const attribute = (handle: Buffer, type: number): Buffer => lib.C_GetAttributeValue(session, handle, [{ type }])[0]?.value as Buffer;
      const issuerOfLeaf = leaf === undefined ? '' : attribute(leaf, pkcs11js.CKA_ISSUER).toString('hex');
      return handles.map((handle) => ({
        private: attribute(handle, pkcs11js.CKA_PRIVATE)[0] !== 0,
        value: attribute(handle, pkcs11js.CKA_VALUE).toString('hex'),
        serial: attribute(handle, pkcs11js.CKA_SERIAL_NUMBER).toString('hex'),
        subject: attribute(handle, pkcs11js.CKA_SUBJECT).toString('hex'),
        issuerOfLeaf,
      }));
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    lib.C_Finalize();
  }
}

const credentialProcess = (certificateUri: string) => runCli(['credential-process', '--certificate', certificateUri, '--pkcs11-lib', fixture.module, ...sessionFlags], { env: withPin });

t.test('the certificate alone: no chain on the token, and the emulator refuses', async (t) => {
  const alone = await enrollAndIssue('chain-alone');
  const imported = await runCli(['enroll', '--import-certificate', alone.certificatePath, '--private-key', alone.keyUri, '--pkcs11-lib', fixture.module], { env: withPin });
  t.equal(imported.code, 0, imported.stderr);
  t.notMatch(imported.stdout, 'issuing CA', 'no chain was offered, none is reported');
  const refused = await credentialProcess(alone.certificateUri);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^roles-anywhere-signer: CreateSession denied \(403 AccessDeniedException\): Untrusted/);

  t.test('then a bundle with --with-chain for another key stores the issuing CA; both keys now get credentials without --intermediates', async (t) => {
    const bundled = await enrollAndIssue('chain-bundle');
    const bundle = join(fixture.dir, 'chain-bundle-full.pem');
    await writeFile(bundle, `${await readFile(bundled.certificatePath, 'utf8')}${await readFile(issuingCert, 'utf8')}${await readFile(join(pki, 'root-ca.pem'), 'utf8')}`);

    const withoutFlag = await runCli(['enroll', '--import-certificate', bundle, '--private-key', bundled.keyUri, '--pkcs11-lib', fixture.module], { env: withPin });
    assertOneLineFailure(t, withoutFlag, `${bundle} holds 3 certificates: give a file with only the issued certificate, or add --with-chain to store the rest of the bundle (its issuing CAs) too`);

    const stored = await runCli(['enroll', '--import-certificate', bundle, '--with-chain', '--private-key', bundled.keyUri, '--pkcs11-lib', fixture.module], { env: withPin });
    t.equal(stored.code, 0, stored.stderr);
    t.match(stored.stdout, `  issuing CA CN=Enroll Issuing CA,O=Example: stored as ${fixture.tokenUri};object=Enroll%20Issuing%20CA;type=cert\n`);
    t.match(stored.stdout, '  issuing CA CN=Test Root CA,O=roles-anywhere-signer tests: not stored: a self-signed root: the trust anchor holds it, credential-process never sends it\n');

    const before = emulator.stats.createSession;
    const accepted = await credentialProcess(bundled.certificateUri);
    t.equal(accepted.stderr, '');
    t.match(accepted.stdout, PROCESS_JSON, 'the chain came from the token');
    const debugged = await runCli(['credential-process', '--certificate', alone.certificateUri, '--pkcs11-lib', fixture.module, ...sessionFlags, '--debug'], { env: withPin });
    t.match(debugged.stdout, PROCESS_JSON, 'the first key, refused before, is accepted now: the CA on the token serves every certificate it issued');
    t.match(debugged.stderr, /x-amz-x509-chain/, 'the chain header was signed and sent');
    t.equal(emulator.stats.createSession, before + 2);
  });

  t.test('--intermediates for a third key: the CA already on the token is not stored twice; a root and a stranger are named, not stored', async (t) => {
    const third = await enrollAndIssue('chain-third');
    const offered = join(fixture.dir, 'chain-third-intermediates.pem');
    await writeFile(offered, `${await readFile(join(pki, 'unrelated-ca.pem'), 'utf8')}${await readFile(alone.certificatePath, 'utf8')}${await readFile(issuingCert, 'utf8')}`);
    const imported = await runCli(['enroll', '--import-certificate', third.certificatePath, '--intermediates', offered, '--private-key', third.keyUri, '--pkcs11-lib', fixture.module, '--json'], { env: withPin });
    t.equal(imported.code, 0, imported.stderr);
    t.same((JSON.parse(imported.stdout) as { chain: unknown }).chain, [
      { subject: 'CN=Enroll Issuing CA,O=Example', outcome: 'present', detail: 'already on the token' },
      { subject: 'CN=Unrelated CA,O=Somebody Else', outcome: 'skipped', detail: 'a self-signed root: the trust anchor holds it, credential-process never sends it' },
      { subject: 'CN=chain-alone', outcome: 'skipped', detail: 'it does not issue the certificate (or a CA above it)' },
    ]);
    const stored = certificateObjects('Enroll Issuing CA');
    t.equal(stored.length, 1, 'one copy of the CA on the token');
    const ca = new X509Certificate(await readFile(issuingCert));
    t.match(stored[0], { private: false, value: ca.raw.toString('hex'), serial: `02${(ca.serialNumber.length / 2).toString(16).padStart(2, '0')}${ca.serialNumber.toLowerCase()}` }, 'public, the CA itself, CKA_SERIAL_NUMBER the DER INTEGER');
    t.ok(stored[0]?.subject.length !== 0 && stored[0]?.subject === stored[0]?.issuerOfLeaf, 'CKA_SUBJECT is the name the certificate it issued carries as issuer (how credential-process finds it)');
    t.match(await credentialProcess(third.certificateUri), { code: 0, stdout: PROCESS_JSON });
  });
});

t.test('--with-chain and --intermediates belong to --import-certificate', async (t) => {
  assertOneLineFailure(t, await runCli(['enroll', '--private-key', `${token};object=x`, '--subject', 'CN=x', '--with-chain'], { env: withPin }),
    '--with-chain and --intermediates store CA certificates next to an imported certificate: use them with --import-certificate', 2);
});
