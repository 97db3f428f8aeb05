import { existsSync } from 'node:fs';
import t from 'tap';
import { isolatedEnv, runCli } from '../../helpers/cli.js';
import { holdPcscStackDown } from '../../helpers/vpcd-rig.js';

/**
 * The real ykcs11 with no pcscd running, as on a laptop where the service is stopped or the
 * YubiKey is not plugged in: one line saying what is likely wrong and how to check, never
 * `unexpected error (CKR_DEVICE_ERROR)` (issue 10 item 9). Holds the PC/SC lock so that no
 * virtual-reader test starts a pcscd meanwhile.
 */
const ykcs11 = ['/usr/lib/x86_64-linux-gnu/libykcs11.so', '/usr/lib/libykcs11.so', '/usr/local/lib/libykcs11.so'].find((path) => existsSync(path));

t.test('with the smart-card stack down, list and credential-process say what to check', { skip: ykcs11 === undefined ? 'ykcs11 is not installed' : false }, async (t) => {
  const release = await holdPcscStackDown();
  if (release === undefined) {
    t.comment('a pcscd is running on this machine: the stack is not down, nothing to check');
    t.pass('skipped: pcscd is running');
    return;
  }
  t.teardown(release);
  const module = ykcs11 as string;
  const line = `roles-anywhere-signer: the PKCS#11 module ${module} cannot reach any token (CKR_DEVICE_ERROR): for a smart card or YubiKey this usually means no reader is connected, pcscd is not running, or no card is inserted: check with \`pcsc_scan\` (or \`systemctl status pcscd\`), plug the key in, and try again\n`;
  const commands: [string, string[]][] = [
    ['list', ['list', '--pkcs11-lib', module]],
    ['credential-process', ['credential-process', '--certificate', 'pkcs11:object=X.509%20Certificate%20for%20Digital%20Signature', '--pkcs11-lib', module,
      '--trust-anchor-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000aa',
      '--profile-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-4000-8000-0000000000bb',
      '--role-arn', 'arn:aws:iam::123456789012:role/r', '--endpoint', 'http://127.0.0.1:9']],
  ];
  for (const [name, args] of commands) {
    const result = await runCli(args, { env: isolatedEnv({ ROLES_ANYWHERE_PIN: '123456' }) });
    t.equal(result.code, 1, `${name}: exit 1`);
    t.equal(result.stdout, '', `${name}: nothing on stdout`);
    t.equal(result.stderr, line, `${name}: one line naming the likely causes and the check`);
  }

  // doctor finds it by the same detection (keys/pkcs11/lookup.ts) and says it as its token line.
  const doctor = await runCli(['doctor', '--offline', '--certificate', 'pkcs11:object=X.509%20Certificate%20for%20Digital%20Signature', '--pkcs11-lib', module], { env: isolatedEnv({ ROLES_ANYWHERE_PIN: '123456' }) });
  t.equal(doctor.code, 1, 'doctor: exit 1');
  t.equal(doctor.stderr, '', 'doctor: the finding is a check line, not an error');
  t.match(doctor.stdout, `fail  token: the PKCS#11 module ${module} cannot reach any token (CKR_DEVICE_ERROR): for a smart card or YubiKey this usually means no reader is connected, pcscd is not running, or no card is inserted -> check with \`pcsc_scan\` (or \`systemctl status pcscd\`), plug the key in, and try again\n`);
  t.match(doctor.stdout, 'warn  key: not opened: the token is not reachable (above) -> fix the token line first\n');
});
