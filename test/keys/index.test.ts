import t from 'tap';
import { resolveKeyOptions } from '../../src/keys/index.js';

const TSS2_KEY = '-----BEGIN TSS2 PRIVATE KEY-----\nMAA=\n-----END TSS2 PRIVATE KEY-----\n';
const PKCS8_KEY = '-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n';

/** Files by path; a path not listed does not exist. Records every read. */
function files(contents: Record<string, string>): { readFile: (path: string) => Buffer; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: (path) => {
      reads.push(path);
      const content = contents[path];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return Buffer.from(content);
    },
  };
}

const noFiles = (): Buffer => {
  throw new Error('no file may be read');
};

t.test('pkcs11: URIs pick the PKCS#11 source, with its defaults', async (t) => {
  const touchNotice = (): void => {};
  t.same(resolveKeyOptions({ privateKey: 'pkcs11:object=k' }, noFiles), {
    spec: { kind: 'pkcs11', keyUri: 'pkcs11:object=k', pin: { envVar: 'ROLES_ANYWHERE_PIN' }, reusePin: false },
  });
  t.same(
    resolveKeyOptions({ certificate: 'pkcs11:object=c', pkcs11Lib: '/lib/p11.so', reusePin: true, pin: { value: '1234' }, touchNotice }, noFiles),
    { spec: { kind: 'pkcs11', certificateUri: 'pkcs11:object=c', modulePath: '/lib/p11.so', pin: { value: '1234' }, reusePin: true, touchNotice } },
    'a certificate URI alone: the key is found by its id',
  );
  t.same(resolveKeyOptions({ privateKey: 'pkcs11:object=k', certificate: '/etc/leaf.pem' }, noFiles), {
    spec: { kind: 'pkcs11', keyUri: 'pkcs11:object=k', pin: { envVar: 'ROLES_ANYWHERE_PIN' }, reusePin: false },
    certificateFile: '/etc/leaf.pem',
  }, 'a certificate file next to a token key');
  t.throws(() => resolveKeyOptions({ certificate: 'pkcs11:object=c', privateKey: '/etc/key.pem' }, noFiles), {
    name: 'SignerError',
    code: 'USAGE',
    message: "--certificate is a pkcs11: URI but --private-key is not: give a pkcs11: URI for the key too, or leave --private-key out to use the key with the certificate's id",
  });
});

t.test('handle: and TSS2 key files pick the TPM source', async (t) => {
  t.same(resolveKeyOptions({ privateKey: 'handle:0x81000101', certificate: '/c.pem' }, noFiles), {
    spec: { kind: 'tpm', handle: 0x81000101, password: { envVar: 'ROLES_ANYWHERE_TPM_KEY_PASSWORD' }, noPassword: false },
    certificateFile: '/c.pem',
  });
  t.same(
    resolveKeyOptions({ privateKey: 'handle:0X81FFFFFF', noTpmKeyPassword: true, tpmTcti: 'swtpm:port=2321', tpmKeyPassword: { value: 'p' } }, noFiles),
    { spec: { kind: 'tpm', handle: 0x81ffffff, password: { value: 'p' }, noPassword: true, tcti: 'swtpm:port=2321' } },
  );
  const { readFile, reads } = files({ '/k/tss2.pem': `subject=CN=x\n${TSS2_KEY}` });
  t.same(resolveKeyOptions({ privateKey: '/k/tss2.pem' }, readFile), {
    spec: { kind: 'tpm', keyFile: '/k/tss2.pem', password: { envVar: 'ROLES_ANYWHERE_TPM_KEY_PASSWORD' }, noPassword: false },
  });
  t.same(reads, ['/k/tss2.pem']);
  for (const [value, message] of [
    ['handle:81000101', '--private-key handle:81000101 is not a TPM persistent handle: write handle:0x81000001 (8 hex digits)'],
    ['handle:0x810001', '--private-key handle:0x810001 is not a TPM persistent handle: write handle:0x81000001 (8 hex digits)'],
    ['handle:0x80000001', '--private-key handle:0x80000001 is not in the persistent range 0x81000000-0x81FFFFFF'],
  ] as const) {
    t.throws(() => resolveKeyOptions({ privateKey: value }, noFiles), { name: 'SignerError', code: 'USAGE', message }, value);
  }
});

t.test('any other key is a key file; no key but a certificate is a PKCS#12 file', async (t) => {
  const { readFile } = files({ '/k/key.pem': PKCS8_KEY });
  t.same(resolveKeyOptions({ privateKey: '/k/key.pem', certificate: '/k/leaf.pem', pkcs8Password: { envVar: 'ROLES_ANYWHERE_PKCS8_PASSWORD' } }, readFile), {
    spec: { kind: 'file', keyPath: '/k/key.pem', password: { envVar: 'ROLES_ANYWHERE_PKCS8_PASSWORD', promptLabel: 'Password for the private key' } },
    certificateFile: '/k/leaf.pem',
  });
  t.same(resolveKeyOptions({ privateKey: '/k/missing.pem' }, readFile), { spec: { kind: 'file', keyPath: '/k/missing.pem', password: { envVar: 'ROLES_ANYWHERE_PKCS8_PASSWORD', promptLabel: 'Password for the private key' } } }, 'a missing file is left for the file source to report');
  t.same(resolveKeyOptions({ certificate: '/k/bundle.p12', pkcs8Password: { value: 'pw' } }, noFiles), {
    spec: { kind: 'file', certificatePath: '/k/bundle.p12', password: { value: 'pw', promptLabel: 'Password for the private key' } },
  });
  t.throws(() => resolveKeyOptions({}, noFiles), {
    name: 'SignerError',
    code: 'USAGE',
    message: 'no key given: pass --private-key (a key file, a pkcs11: URI or handle:0x81...) and --certificate, or --certificate with a PKCS#12 file',
  });
});
