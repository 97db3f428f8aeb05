import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Test fixtures made with the openssl CLI: certificate authorities, leaf certificates for any
 * public key, PKCS#12 files and encrypted PKCS#8 keys. OpenSSL is an implementation
 * independent of ours, so the parsers are tested against what real tools write, not against
 * our own encoder. Everything lives in the directory the test gives (a fresh mkdtemp).
 */
const execFileAsync = promisify(execFile);

export type TestKeyKind = 'RSA-2048' | 'RSA-3072' | 'EC-P256' | 'EC-P384';

export interface TestKeyPair {
  readonly kind: TestKeyKind;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Unencrypted PKCS#8 PEM of the private key. */
  readonly pkcs8Pem: string;
}

export function generateTestKey(kind: TestKeyKind): TestKeyPair {
  const { privateKey, publicKey } = kind.startsWith('RSA')
    ? generateKeyPairSync('rsa', { modulusLength: kind === 'RSA-2048' ? 2048 : 3072 })
    : generateKeyPairSync('ec', { namedCurve: kind === 'EC-P256' ? 'prime256v1' : 'secp384r1' });
  return { kind, privateKey, publicKey, pkcs8Pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export interface OpensslCertificate {
  readonly subject: string;
  readonly certificatePem: string;
  readonly certificateDer: Uint8Array;
  /** PEM file of the certificate inside the work directory. */
  readonly certificatePath: string;
}

export interface OpensslCa extends OpensslCertificate {
  readonly key: TestKeyPair;
  /** PKCS#8 PEM file of the CA key inside the work directory. */
  readonly keyPath: string;
}

export interface CaOptions {
  /** OpenSSL -subj form: "/CN=Test Root/O=Example". */
  readonly subject: string;
  /** Signs the new CA (an intermediate or a cross-certificate); self-signed when omitted. */
  readonly issuer?: OpensslCa;
  /** Reuse a key (cross-certificates, same-key re-issues); a new EC P-256 key when omitted. */
  readonly key?: TestKeyPair;
  /** Force this subjectKeyIdentifier (hex), to build impostors that match on names and ids. */
  readonly subjectKeyIdentifierHex?: string;
}

export interface LeafOptions {
  readonly subject: string;
  readonly issuer: OpensslCa;
  readonly publicKey: KeyObject;
  /** Hex serial; random 16 bytes when omitted. */
  readonly serialHex?: string;
}

export type Pkcs12Scheme =
  /** OpenSSL 3 default: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, SHA-256 MAC. */
  | 'aes'
  /** -legacy with 3DES for both key and certificates, SHA-1 MAC. */
  | 'legacy-3des'
  /** -legacy defaults: 3DES key, RC2-40 certificates (what old tools write). */
  | 'legacy-rc2'
  /** AES but no MAC at all. */
  | 'aes-nomac'
  /** No encryption and no MAC: a plain keyBag and plain certificate bags. */
  | 'unencrypted';

export interface Pkcs12Options {
  readonly key: TestKeyPair;
  readonly certificate: OpensslCertificate;
  readonly chain?: readonly OpensslCertificate[];
  /** '' writes the empty password, as the reference helper expects by default. */
  readonly password: string;
  readonly scheme: Pkcs12Scheme;
}

export interface Pkcs8EncryptionOptions {
  readonly key: TestKeyPair;
  readonly password: string;
  /** `-v2 <cipher>` (PBES2), or `-v1 <pbe>` (PKCS#12 PBE / PBES1). */
  readonly v2?: 'aes-128-cbc' | 'aes-256-cbc' | 'des3';
  readonly v2prf?: 'hmacWithSHA1' | 'hmacWithSHA256' | 'hmacWithSHA512';
  readonly v1?: 'PBE-SHA1-3DES' | 'PBE-SHA1-2DES' | 'PBE-SHA1-RC2-40';
  /** PBES2 with scrypt instead of PBKDF2. */
  readonly scrypt?: boolean;
  readonly outform: 'PEM' | 'DER';
}

export interface OpensslPki {
  readonly dir: string;
  createCa(options: CaOptions): Promise<OpensslCa>;
  issueLeaf(options: LeafOptions): Promise<OpensslCertificate>;
  exportPkcs12(options: Pkcs12Options): Promise<Uint8Array>;
  encryptPkcs8(options: Pkcs8EncryptionOptions): Promise<Uint8Array>;
  /** Runs openssl with `args`; stdout as a Buffer. */
  run(args: readonly string[], env?: Record<string, string>): Promise<Buffer>;
}

const EXTENSIONS = `
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

export async function createOpensslPki(dir: string): Promise<OpensslPki> {
  let counter = 0;
  const nextPath = (stem: string, extension: string): string => join(dir, `${stem}-${++counter}.${extension}`);
  const baseExtensions = nextPath('extensions', 'cnf');
  await writeFile(baseExtensions, EXTENSIONS);

  const run = async (args: readonly string[], env: Record<string, string> = {}): Promise<Buffer> => {
    try {
      const { stdout } = await execFileAsync('openssl', [...args], {
        encoding: 'buffer',
        env: { ...process.env, ...env },
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim()}`, { cause: error });
    }
  };

  const writeKey = async (key: TestKeyPair): Promise<string> => {
    const path = nextPath('key', 'pem');
    await writeFile(path, key.pkcs8Pem, { mode: 0o600 });
    return path;
  };

  const writePublicKey = async (key: KeyObject): Promise<string> => {
    const path = nextPath('pub', 'pem');
    await writeFile(path, key.export({ type: 'spki', format: 'pem' }).toString());
    return path;
  };

  const certificateFrom = async (subject: string, certificatePath: string): Promise<OpensslCertificate> => {
    const certificatePem = await readFile(certificatePath, 'utf8');
    const certificateDer = new Uint8Array(await run(['x509', '-in', certificatePath, '-outform', 'DER']));
    return { subject, certificatePem, certificateDer, certificatePath };
  };

  const randomSerial = (): string => `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`;

  return {
    dir,
    run,
    async createCa(options) {
      const key = options.key ?? generateTestKey('EC-P256');
      const keyPath = await writeKey(key);
      const certificatePath = nextPath('ca', 'pem');
      let extensions = baseExtensions;
      if (options.subjectKeyIdentifierHex !== undefined) {
        extensions = nextPath('extensions', 'cnf');
        await writeFile(extensions, EXTENSIONS.replace(/\[ca\]\n([\s\S]*?)subjectKeyIdentifier = hash/, `[ca]\n$1subjectKeyIdentifier = ${options.subjectKeyIdentifierHex}`));
      }
      const signing = options.issuer === undefined
        ? ['-key', keyPath]
        : ['-force_pubkey', await writePublicKey(key.publicKey), '-CA', options.issuer.certificatePath, '-CAkey', options.issuer.keyPath];
      await run(['x509', '-new', ...signing, '-subj', options.subject, '-days', '2', '-sha256',
        '-set_serial', randomSerial(), '-extfile', extensions, '-extensions', 'ca', '-out', certificatePath]);
      return { ...(await certificateFrom(options.subject, certificatePath)), key, keyPath };
    },
    async issueLeaf(options) {
      const certificatePath = nextPath('leaf', 'pem');
      await run(['x509', '-new', '-force_pubkey', await writePublicKey(options.publicKey),
        '-CA', options.issuer.certificatePath, '-CAkey', options.issuer.keyPath,
        '-subj', options.subject, '-days', '2', '-sha256',
        '-set_serial', options.serialHex === undefined ? randomSerial() : `0x${options.serialHex}`,
        '-extfile', baseExtensions, '-extensions', 'leaf', '-out', certificatePath]);
      return certificateFrom(options.subject, certificatePath);
    },
    async exportPkcs12(options) {
      const keyPath = await writeKey(options.key);
      const out = nextPath('bundle', 'p12');
      const args = ['pkcs12', '-export', '-inkey', keyPath, '-in', options.certificate.certificatePath, '-out', out,
        '-passout', options.password === '' ? 'pass:' : 'env:FIXTURE_PASSWORD'];
      if (options.chain !== undefined && options.chain.length > 0) {
        const chainPath = nextPath('chain', 'pem');
        await writeFile(chainPath, options.chain.map((c) => c.certificatePem).join(''));
        args.push('-certfile', chainPath);
      }
      if (options.scheme === 'legacy-3des') args.push('-legacy', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES');
      if (options.scheme === 'legacy-rc2') args.push('-legacy');
      if (options.scheme === 'aes-nomac') args.push('-nomac');
      if (options.scheme === 'unencrypted') args.push('-keypbe', 'NONE', '-certpbe', 'NONE', '-nomac');
      await run(args, { FIXTURE_PASSWORD: options.password });
      return new Uint8Array(await readFile(out));
    },
    async encryptPkcs8(options) {
      const keyPath = await writeKey(options.key);
      const out = nextPath('encrypted', options.outform === 'PEM' ? 'pem' : 'der');
      const args = ['pkcs8', '-topk8', '-in', keyPath, '-out', out, '-outform', options.outform,
        '-passout', options.password === '' ? 'pass:' : 'env:FIXTURE_PASSWORD'];
      if (options.v2 !== undefined) args.push('-v2', options.v2);
      if (options.v2prf !== undefined) args.push('-v2prf', options.v2prf);
      if (options.v1 !== undefined) args.push('-v1', options.v1);
      if (options.scrypt === true) args.push('-scrypt');
      if (options.v1 === 'PBE-SHA1-RC2-40') args.push('-provider', 'legacy', '-provider', 'default');
      await run(args, { FIXTURE_PASSWORD: options.password });
      return new Uint8Array(await readFile(out));
    },
  };
}
