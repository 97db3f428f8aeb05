import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { createPrimaryCommand, loadCommand, readPublicCommand, type ReadPublicResult } from '../../src/keys/tpm/commands.js';
import { TPM_RH } from '../../src/keys/tpm/constants.js';
import { parseTss2KeyFile } from '../../src/keys/tpm/keyfile.js';
import { ECC_P256_STORAGE_PRIMARY } from '../../src/keys/tpm/templates.js';
import { readFileSync } from 'node:fs';
import { isolatedEnv, runCli, type RunResult } from '../helpers/cli.js';
import { startRig } from '../helpers/emulator-rig.js';
import { swtpmFor, tempDir, withClient } from '../keys/tpm/rig.js';

/**
 * The rig of the TPM enroll tests: swtpm (TCP, its own state), the emulator trusting the rig's
 * root CA, and OpenSSL as the CA (the rig's issuing CA as key files) that signs enrolled keys'
 * requests.
 */
export const execFileAsync = promisify(execFile);
export const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;

export async function startTpmEnrollRig(t: Test) {
  const rig = await startRig();
  t.teardown(() => rig.close());
  const dir = tempDir(t, 'enroll-tpm');
  const swtpm = await swtpmFor(t, { mode: 'tcp', stateDir: join(dir, 'state') });
  const caPath = join(dir, 'issuing-ca.pem');
  const caKeyPath = join(dir, 'issuing-ca.key');
  const extensionsPath = join(dir, 'leaf.ext');
  const rootPath = join(dir, 'root-ca.pem');
  writeFileSync(caPath, rig.intermediate.certificatePem);
  writeFileSync(caKeyPath, rig.intermediate.privateKeyPem, { mode: 0o600 });
  writeFileSync(rootPath, rig.root.certificatePem);
  writeFileSync(extensionsPath, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  const intermediates = join(rig.dir, 'intermediate.pem');

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: swtpm.tcti, ...extra });
  const enroll = (args: readonly string[], runEnv: NodeJS.ProcessEnv = env()): Promise<RunResult> => runCli(['enroll', '--tpm', ...args], { env: runEnv });

  /** The test CA issues a certificate for a request, as a user's CA would. */
  async function issue(csrPath: string, certificatePath: string): Promise<void> {
    await execFileAsync('openssl', ['x509', '-req', '-in', csrPath, '-CA', caPath, '-CAkey', caKeyPath, '-days', '2', '-sha256', '-extfile', extensionsPath, '-out', certificatePath]);
  }

  /** credential-process against the emulator with the enrolled key; true when it accepted. */
  async function credentials(t: Test, certificatePath: string, privateKey: string, extra: readonly string[] = [], runEnv: NodeJS.ProcessEnv = env()): Promise<RunResult> {
    const before = rig.stats.createSession;
    const result = await runCli(['credential-process', '--certificate', certificatePath, '--private-key', privateKey, '--intermediates', intermediates, ...extra, ...rig.sessionFlags], { env: runEnv });
    if (result.code === 0) t.equal(rig.stats.createSession, before + 1, 'the emulator accepted the enrolled key and its certificate');
    return result;
  }

  /** What the TPM itself says about a key file's key: loaded under the SRK, then TPM2_ReadPublic. */
  function readBackKeyFile(path: string): Promise<ReadPublicResult> {
    const file = parseTss2KeyFile(readFileSync(path), path);
    return withClient(swtpm, async (client) => {
      const primary = await client.run(createPrimaryCommand({ hierarchy: TPM_RH.OWNER, hierarchyAuth: Buffer.alloc(0), template: ECC_P256_STORAGE_PRIMARY }));
      try {
        const loaded = await client.run(loadCommand({ parentHandle: primary.handle, parentAuth: Buffer.alloc(0), inPrivate: file.privateBlob, inPublic: file.publicBlob }));
        try {
          return await client.run(readPublicCommand(loaded.handle));
        } finally {
          await client.flush(loaded.handle);
        }
      } finally {
        await client.flush(primary.handle);
      }
    });
  }

  function readBackHandle(handle: number): Promise<ReadPublicResult> {
    return withClient(swtpm, (client) => client.run(readPublicCommand(handle)));
  }

  function persistentHandles(): Promise<number[]> {
    return withClient(swtpm, (client) => client.listHandles(0x81));
  }

  function assertOneLineFailure(t: Test, result: RunResult, line: string, code = 1): void {
    t.equal(result.code, code, `exit code ${code}`);
    t.equal(result.stdout, '', 'nothing on stdout');
    t.equal(result.stderr, `roles-anywhere-signer: ${line}\n`, 'exactly that one line on stderr');
  }

  return { rig, dir, swtpm, rootPath, intermediates, env, enroll, issue, credentials, readBackKeyFile, readBackHandle, persistentHandles, assertOneLineFailure };
}
