import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import type { Test } from 'tap';
import { derToPem, startEmulator } from '../../src/emulator/index.js';
import { isolatedEnv, type RunResult } from '../helpers/cli.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';

/**
 * The rig of the enroll end-to-end tests: a SoftHSM token (the fixture's ec-p256 key and test
 * PKI), the emulator trusting the fixture's root CA, and OpenSSL as the CA that issues
 * certificates for enrolled keys. Split over two test files to stay far from tap's file timeout.
 */
export const execFileAsync = promisify(execFile);
export interface KeyAttributes {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  sign: boolean;
  valueRead: string;
}

export async function startEnrollRig(t: Test) {
  const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
  const ACCOUNT = '123456789012';
  const REGION = 'us-east-1';
  const trustAnchorArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:trust-anchor/00000000-0000-4000-8000-0000000000aa`;
  const profileArn = `arn:aws:rolesanywhere:${REGION}:${ACCOUNT}:profile/00000000-0000-4000-8000-0000000000bb`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/enroll-e2e`;
  const emulator = await startEmulator(
    {
      region: REGION,
      accountId: ACCOUNT,
      trustAnchors: [{ arn: trustAnchorArn, certificates: [derToPem(fixture.rootCa)], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, acceptRoleSessionName: false, enabled: true }],
    },
    { port: 0, host: '127.0.0.1' },
  );
  t.teardown(() => emulator.close());

  const sessionFlags = ['--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url];
  const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;
  const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => isolatedEnv({ SOFTHSM2_CONF: fixture.conf, ...extra });
  const withPin = env({ ROLES_ANYWHERE_PIN: fixture.pin });
  const token = `pkcs11:token=${fixture.tokenLabel}`;
  const leafExtensions = join(fixture.dir, 'enroll-leaf.ext');
  await writeFile(leafExtensions, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');

  /** The test CA (the fixture's root, an OpenSSL key file) issues a certificate for a request. */
  async function issue(csrPath: string, certificatePath: string): Promise<void> {
    await execFileAsync('openssl', ['x509', '-req', '-in', csrPath, '-CA', join(fixture.dir, 'pki', 'root-ca.pem'), '-CAkey', join(fixture.dir, 'pki', 'root-ca.key'),
      '-days', '2', '-sha256', '-extfile', leafExtensions, '-out', certificatePath]);
  }

  function assertOneLineFailure(t: Test, result: RunResult, line: string, code = 1): void {
    t.equal(result.code, code, `exit code ${code}`);
    t.equal(result.stdout, '', 'nothing on stdout');
    t.equal(result.stderr, `roles-anywhere-signer: ${line}\n`, 'exactly that one line on stderr');
    t.notMatch(result.stderr, fixture.pin, 'no PIN on stderr');
  }


  /** What the token itself says about the private key labelled `label`, through the bare binding. */
  function privateKeyAttributes(label: string): KeyAttributes[] {
    const lib = new pkcs11js.PKCS11();
    lib.load(fixture.module);
    lib.C_Initialize();
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === fixture.tokenLabel);
      if (slot === undefined) throw new Error('no fixture token');
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, fixture.pin);
        lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_LABEL, value: label }]);
        const handles = lib.C_FindObjects(session, 10);
        lib.C_FindObjectsFinal(session);
        const bool = (handle: Buffer, type: number): boolean => (lib.C_GetAttributeValue(session, handle, [{ type }])[0]?.value as Buffer)[0] !== 0;
        return handles.map((handle) => {
          let valueRead = 'read';
          try {
            // The secret part: CKA_VALUE of an EC key, CKA_PRIVATE_EXPONENT of an RSA key.
            const keyType = (lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }])[0]?.value as Buffer).readUInt32LE(0);
            lib.C_GetAttributeValue(session, handle, [{ type: keyType === pkcs11js.CKK_RSA ? pkcs11js.CKA_PRIVATE_EXPONENT : pkcs11js.CKA_VALUE }]);
          } catch (error) {
            valueRead = (error as Error).message.split(':')[0] ?? '';
          }
          return {
            token: bool(handle, pkcs11js.CKA_TOKEN),
            private: bool(handle, pkcs11js.CKA_PRIVATE),
            sensitive: bool(handle, pkcs11js.CKA_SENSITIVE),
            extractable: bool(handle, pkcs11js.CKA_EXTRACTABLE),
            neverExtractable: bool(handle, pkcs11js.CKA_NEVER_EXTRACTABLE),
            sign: bool(handle, pkcs11js.CKA_SIGN),
            valueRead,
          };
        });
      } finally {
        lib.C_CloseSession(session);
      }
    } finally {
      lib.C_Finalize();
      lib.close();
    }
  }

  return { fixture, emulator, sessionFlags, PROCESS_JSON, env, withPin, token, issue, assertOneLineFailure, privateKeyAttributes };
}
