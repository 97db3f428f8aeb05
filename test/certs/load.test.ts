import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { describeCertificate, isPkcs12, loadCertificateFile, loadIntermediates, loadLeafCertificate, parseCertificates } from '../../src/certs/load.js';
import { encodePem } from '../../src/certs/pem.js';
import { createOpensslPki, generateTestKey } from '../helpers/openssl-pki.js';

function expectError(t: Test, fn: () => unknown, code: string, message: string): void {
  let caught: { code?: string; message?: string } = {};
  try {
    fn();
  } catch (error) {
    caught = error as typeof caught;
  }
  t.equal(caught.code, code, `code ${code}`);
  t.equal(caught.message, message, 'message');
}

const hex = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString('hex');

await t.test('certificate files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'certs-load-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const pki = await createOpensslPki(dir);
  const root = await pki.createCa({ subject: '/CN=Load Root' });
  const intermediate = await pki.createCa({ subject: '/CN=Load Intermediate', issuer: root });
  const key = generateTestKey('EC-P256');
  const leaf = await pki.issueLeaf({ subject: '/CN=load leaf', issuer: intermediate, publicKey: key.publicKey });
  const write = async (name: string, data: string | Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, data);
    return path;
  };

  await t.test('PEM and DER, one or several, in file order', async (t) => {
    const bundle = await write('bundle.pem', `leaf:\n${leaf.certificatePem}${key.pkcs8Pem}${intermediate.certificatePem}\n${root.certificatePem}`);
    t.same(loadCertificateFile(bundle).map(hex), [leaf, intermediate, root].map((c) => hex(c.certificateDer)), 'PEM bundle, keys skipped');
    const der = await write('leaf.der', leaf.certificateDer);
    t.same(loadCertificateFile(der).map(hex), [hex(leaf.certificateDer)], 'one DER certificate');
    const concatenated = await write('two.der', Buffer.concat([leaf.certificateDer, intermediate.certificateDer]));
    t.same(loadCertificateFile(concatenated).map(hex), [leaf, intermediate].map((c) => hex(c.certificateDer)), 'concatenated DER');
    const intermediates = await write('chain.pem', intermediate.certificatePem + root.certificatePem);
    t.same(loadIntermediates(intermediates).map(hex), [intermediate, root].map((c) => hex(c.certificateDer)), '--intermediates keeps every certificate in order');
    const crlf = await write('crlf.pem', leaf.certificatePem.replace(/\n/g, '\r\n'));
    t.same(loadCertificateFile(crlf).map(hex), [hex(leaf.certificateDer)], 'CRLF');
    t.equal(hex(loadLeafCertificate(bundle)), hex(leaf.certificateDer), 'loadLeafCertificate: the first certificate of the file');
  });

  await t.test('errors', async (t) => {
    const missing = join(dir, 'missing.pem');
    expectError(t, () => loadCertificateFile(missing), 'CERT_NOT_FOUND', `certificate file ${missing} does not exist: check the --certificate path`);
    expectError(t, () => loadIntermediates(missing), 'CERT_NOT_FOUND', `intermediates file ${missing} does not exist: check the --intermediates path`);
    expectError(t, () => loadCertificateFile(dir), 'CERT_NOT_FOUND', `cannot read certificate file ${dir} (EISDIR): check the --certificate path and its permissions`);
    const keyOnly = await write('key.pem', key.pkcs8Pem);
    expectError(t, () => loadCertificateFile(keyOnly), 'CERT_INVALID', `certificate file ${keyOnly} holds no certificate: pass a PEM or DER X.509 certificate`);
    expectError(t, () => loadLeafCertificate(keyOnly), 'CERT_INVALID', `certificate file ${keyOnly} holds no certificate: pass a PEM or DER X.509 certificate`);
    const empty = await write('empty.pem', '');
    expectError(t, () => loadIntermediates(empty), 'CERT_INVALID', `intermediates file ${empty} holds no certificate: pass a PEM or DER X.509 certificate`);
    const garbage = await write('garbage.der', randomBytes(100));
    expectError(t, () => loadCertificateFile(garbage), 'CERT_INVALID', `certificate file ${garbage} is neither PEM nor DER X.509 certificates: pass a PEM or DER certificate file`);
    const trailing = await write('trailing.der', Buffer.concat([leaf.certificateDer, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])]));
    expectError(t, () => loadCertificateFile(trailing), 'CERT_INVALID', `certificate file ${trailing} is neither PEM nor DER X.509 certificates: pass a PEM or DER certificate file`);
    const damaged = await write('damaged.pem', leaf.certificatePem + encodePem('CERTIFICATE', randomBytes(80)));
    const damagedLine = leaf.certificatePem.trimEnd().split('\n').length + 1;
    expectError(t, () => loadCertificateFile(damaged), 'CERT_INVALID', `certificate file ${damaged}: the CERTIFICATE block that begins on line ${damagedLine} is not a valid X.509 certificate: the file is damaged; get a fresh copy`);
    const truncated = await write('truncated.pem', leaf.certificatePem.slice(0, 200));
    expectError(t, () => loadCertificateFile(truncated), 'CERT_INVALID', `certificate file ${truncated}: PEM block "CERTIFICATE" that begins on line 1 has no END line: the file is truncated; get a fresh copy`);
    const pkcs7 = await write('bundle.p7b', encodePem('PKCS7', randomBytes(40)));
    expectError(t, () => loadCertificateFile(pkcs7), 'CERT_INVALID', `certificate file ${pkcs7} holds a PKCS7 bundle: convert it with \`openssl pkcs7 -print_certs -in <file> -out certs.pem\` and pass certs.pem`);
    const p12 = await write('bundle.p12', await pki.exportPkcs12({ key, certificate: leaf, password: '', scheme: 'aes' }));
    t.ok(isPkcs12(await pki.exportPkcs12({ key, certificate: leaf, password: 'x', scheme: 'legacy-3des' })), 'isPkcs12 recognises a legacy PKCS#12 file');
    t.notOk(isPkcs12(leaf.certificateDer), 'a certificate is not PKCS#12');
    expectError(t, () => loadCertificateFile(p12), 'CERT_INVALID', `certificate file ${p12} is a PKCS#12 file: pass it as --certificate without --private-key, so the key and certificates inside are used`);
    expectError(t, () => parseCertificates(Buffer.from('no pem here'), 'the token'), 'CERT_INVALID', 'the token is neither PEM nor DER X.509 certificates: pass a PEM or DER certificate file');
  });

  await t.test('describeCertificate agrees with openssl', async (t) => {
    const rsa = generateTestKey('RSA-2048');
    const subject = '/C=US/ST=Wash/O=Example, Inc./OU=Dev#1/CN= leaf "quoted"\\+x<y>;\\\\z ';
    const cases = [
      { subject, serialHex: '80', key: key, keyType: 'EC', keyDetail: 'EC P-256' },
      { subject: '/CN=rsa', serialHex: '075BCD15', key: rsa, keyType: 'RSA', keyDetail: 'RSA 2048' },
      { subject: '/CN=p384/O=Example', serialHex: undefined, key: generateTestKey('EC-P384'), keyType: 'EC', keyDetail: 'EC P-384' },
    ];
    for (const c of cases) {
      const certificate = await pki.issueLeaf({ subject: c.subject, issuer: intermediate, publicKey: c.key.publicKey, ...(c.serialHex === undefined ? {} : { serialHex: c.serialHex }) });
      const about = describeCertificate(certificate.certificateDer);
      const field = async (...args: string[]): Promise<string> => {
        const out = (await pki.run(['x509', '-in', certificate.certificatePath, '-noout', ...args])).toString().trim();
        return out.slice(out.indexOf('=') + 1);
      };
      t.equal(about.subject, await field('-subject', '-nameopt', 'RFC2253'), `${c.subject}: subject in RFC 4514 form`);
      t.equal(about.issuer, await field('-issuer', '-nameopt', 'RFC2253'), 'issuer');
      const opensslSerial = (await field('-serial')).toLowerCase();
      t.equal(about.serialNumberHex, opensslSerial.length % 2 === 1 ? `0${opensslSerial}` : opensslSerial, 'serial hex');
      t.equal(about.serialNumberDecimal, BigInt(`0x${opensslSerial}`).toString(10), 'serial decimal');
      t.equal(about.fingerprintSha256, (await field('-fingerprint', '-sha256')).replace(/:/g, '').toLowerCase(), 'SHA-256 fingerprint');
      t.equal(about.notBefore.getTime(), new Date(await field('-startdate')).getTime(), 'notBefore');
      t.equal(about.notAfter.getTime(), new Date(await field('-enddate')).getTime(), 'notAfter');
      t.equal(about.keyType, c.keyType, 'keyType');
      t.equal(about.keyDetail, c.keyDetail, 'keyDetail');
    }
    const fixed = describeCertificate((await pki.issueLeaf({ subject: '/CN=x', issuer: intermediate, publicKey: key.publicKey, serialHex: '075BCD15' })).certificateDer);
    t.equal(fixed.serialNumberDecimal, '123456789', 'known serial in decimal');
    t.equal(fixed.serialNumberHex, '075bcd15', 'known serial in hex, even length');
    const highBit = describeCertificate((await pki.issueLeaf({ subject: '/CN=x', issuer: intermediate, publicKey: key.publicKey, serialHex: '80' })).certificateDer);
    t.equal(highBit.serialNumberDecimal, '128', 'the DER leading zero is not part of the number');
    t.equal(highBit.serialNumberHex, '80', 'nor of the hex');
  });

  await t.test('describeCertificate: negative serial, empty subject, Ed25519 key', async (t) => {
    const keyPath = join(dir, 'ed25519.pem');
    await pki.run(['genpkey', '-algorithm', 'ed25519', '-out', keyPath]);
    const path = join(dir, 'odd.pem');
    await pki.run(['x509', '-new', '-key', keyPath, '-subj', '/', '-set_serial', '-5', '-days', '1', '-out', path]);
    const [der] = loadCertificateFile(path);
    const about = describeCertificate(der ?? new Uint8Array());
    t.equal(about.subject, '', 'empty subject');
    t.equal(about.serialNumberDecimal, '-5', 'negative serial, as Go prints it');
    t.equal(about.serialNumberHex, '-05');
    t.equal(about.keyType, 'UNSUPPORTED');
    t.equal(about.keyDetail, 'ed25519');
  });

  await t.test('describeCertificate rejects what is not a certificate', async (t) => {
    expectError(t, () => describeCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])), 'CERT_INVALID', 'the certificate (5 bytes) is not a valid DER X.509 certificate: pass a PEM or DER certificate');
  });
});
