/**
 * One corpus of bad inputs run through both programs. Both must refuse every one (non-zero exit);
 * ours must also say so in one line on stderr, without a stack trace. Where the exit codes differ
 * (ours exits 2 for usage errors, the reference 1 for everything), the entry names it.
 */
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/emulator/pki.js';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { findSideBySide, runOurs, runReference, skipUnless } from './harness.js';
import { resultRow } from './results.js';

const found = await findSideBySide();
const skip = skipUnless(found);

interface Paths {
  readonly key: string;
  readonly certificate: string;
  readonly chain: string;
  readonly otherKey: string;
  readonly empty: string;
  readonly garbage: string;
  readonly missing: string;
  readonly endpoint: string;
  readonly closedEndpoint: string;
  readonly trustAnchorArn: string;
  readonly profileArn: string;
  readonly roleArn: string;
}

interface BadInput {
  readonly name: string;
  readonly args: (paths: Paths) => readonly string[];
  /** Our exit code: 2 for usage errors (flags), 1 for everything else. */
  readonly ourExit: 1 | 2;
}

/** Every credential-process flag of a working call; entries drop or spoil one. */
function session(paths: Paths, overrides: Record<string, string | undefined> = {}): string[] {
  const flags: Record<string, string | undefined> = {
    '--certificate': paths.certificate,
    '--private-key': paths.key,
    '--intermediates': paths.chain,
    '--trust-anchor-arn': paths.trustAnchorArn,
    '--profile-arn': paths.profileArn,
    '--role-arn': paths.roleArn,
    '--endpoint': paths.endpoint,
    ...overrides,
  };
  const args = ['credential-process'];
  for (const [flag, value] of Object.entries(flags)) if (value !== undefined) args.push(flag, value);
  return args;
}

export const BAD_INPUTS: readonly BadInput[] = [
  { name: 'credential-process without any flag', args: () => ['credential-process'], ourExit: 2 },
  { name: 'no --certificate (ours looks for one beside the key first)', args: (p) => session(p, { '--certificate': undefined }), ourExit: 1 },
  { name: 'no --private-key', args: (p) => session(p, { '--private-key': undefined }), ourExit: 2 },
  { name: 'no --trust-anchor-arn', args: (p) => session(p, { '--trust-anchor-arn': undefined }), ourExit: 2 },
  { name: 'no --profile-arn', args: (p) => session(p, { '--profile-arn': undefined }), ourExit: 2 },
  { name: 'no --role-arn', args: (p) => session(p, { '--role-arn': undefined }), ourExit: 2 },
  { name: '--certificate names a missing file', args: (p) => session(p, { '--certificate': p.missing }), ourExit: 1 },
  { name: '--private-key names a missing file', args: (p) => session(p, { '--private-key': p.missing }), ourExit: 1 },
  { name: '--certificate is a key file', args: (p) => session(p, { '--certificate': p.key }), ourExit: 1 },
  { name: '--private-key is a certificate', args: (p) => session(p, { '--private-key': p.certificate }), ourExit: 1 },
  { name: '--private-key is an empty file', args: (p) => session(p, { '--private-key': p.empty }), ourExit: 1 },
  { name: '--certificate is not PEM or DER', args: (p) => session(p, { '--certificate': p.garbage }), ourExit: 1 },
  { name: 'the key does not match the certificate', args: (p) => session(p, { '--private-key': p.otherKey }), ourExit: 1 },
  { name: '--intermediates names a missing file', args: (p) => session(p, { '--intermediates': p.missing }), ourExit: 1 },
  { name: '--intermediates is not PEM', args: (p) => session(p, { '--intermediates': p.garbage }), ourExit: 1 },
  { name: '--trust-anchor-arn is not an ARN', args: (p) => session(p, { '--trust-anchor-arn': 'trust-anchor' }), ourExit: 1 },
  { name: '--profile-arn is not an ARN', args: (p) => session(p, { '--profile-arn': 'arn:aws:rolesanywhere' }), ourExit: 1 },
  { name: '--role-arn is not an ARN', args: (p) => session(p, { '--role-arn': 'role/x' }), ourExit: 1 },
  { name: 'an unknown trust anchor', args: (p) => session(p, { '--trust-anchor-arn': p.trustAnchorArn.replace(/aa$/, 'ff') }), ourExit: 1 },
  { name: '--session-duration is not a number', args: (p) => session(p, { '--session-duration': 'hour' }), ourExit: 2 },
  { name: '--session-duration below 900', args: (p) => session(p, { '--session-duration': '300' }), ourExit: 1 },
  { name: '--session-duration above 43200', args: (p) => session(p, { '--session-duration': '50000' }), ourExit: 1 },
  { name: '--role-session-name with a space', args: (p) => session(p, { '--role-session-name': 'bad name' }), ourExit: 1 },
  { name: '--endpoint is not a URL', args: (p) => session(p, { '--endpoint': 'http://[::1' }), ourExit: 1 },
  { name: '--endpoint where nothing listens', args: (p) => session(p, { '--endpoint': p.closedEndpoint }), ourExit: 1 },
  { name: 'an unknown flag', args: (p) => [...session(p), '--bogus'], ourExit: 2 },
  { name: 'an unknown command', args: () => ['frobnicate'], ourExit: 2 },
  { name: 'a pkcs11: key with a missing --pkcs11-lib', args: (p) => session(p, { '--private-key': 'pkcs11:token=none;object=none', '--pkcs11-lib': p.missing }), ourExit: 1 },
  { name: 'sign-string --format xml', args: (p) => ['sign-string', '--certificate', p.certificate, '--private-key', p.key, '--format', 'xml'], ourExit: 2 },
  { name: 'sign-string --digest MD5', args: (p) => ['sign-string', '--certificate', p.certificate, '--private-key', p.key, '--digest', 'MD5'], ourExit: 2 },
  { name: 'sign-string with a missing key file', args: (p) => ['sign-string', '--certificate', p.certificate, '--private-key', p.missing], ourExit: 1 },
  { name: 'read-certificate-data with a missing file', args: (p) => ['read-certificate-data', '--certificate', p.missing], ourExit: 1 },
  { name: 'read-certificate-data on a key file', args: (p) => ['read-certificate-data', '--certificate', p.key], ourExit: 1 },
  { name: 'serve --port is not a number', args: (p) => ['serve', ...session(p).slice(1), '--port', 'http'], ourExit: 2 },
  { name: 'update without --role-arn', args: (p) => ['update', ...session(p, { '--role-arn': undefined }).slice(1)], ourExit: 2 },
];

let rig: Rig;
let paths: Paths;
t.before(async () => {
  if (!found.ok) return;
  rig = await startRig();
  const identity = await rig.issueFileIdentity('bad-input', 'EC-P256');
  const otherKey = join(rig.dir, 'other.key.pem');
  await writeFile(otherKey, generateKeyPair('EC-P256').privateKeyPem, { mode: 0o600 });
  const empty = join(rig.dir, 'empty.pem');
  await writeFile(empty, '');
  const garbage = join(rig.dir, 'garbage.pem');
  await writeFile(garbage, 'this is not a certificate\n');
  paths = {
    key: identity.keyPath,
    certificate: identity.certificatePath,
    chain: identity.chainPath,
    otherKey,
    empty,
    garbage,
    missing: join(rig.dir, 'does-not-exist.pem'),
    endpoint: rig.url,
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    closedEndpoint: 'http://127.0.0.1:1',
    trustAnchorArn: rig.trustAnchorArn,
    profileArn: rig.profileArn,
    roleArn: rig.roleArn,
  };
});
t.teardown(async () => {
  await rig?.close();
});

t.test(`a corpus of ${BAD_INPUTS.length} bad inputs: both programs refuse each`, { skip }, async (t) => {
  if (!found.ok) return;
  t.ok(BAD_INPUTS.length >= 30, 'at least 30 bad inputs');
  let exitCodeDiffers = 0;
  // Two at a time: the machine has two cores, and each entry runs two processes.
  const queue = [...BAD_INPUTS];
  const worker = async (): Promise<void> => {
    for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
      const args = entry.args(paths);
      const [reference, ours] = await Promise.all([runReference(found.value, args), runOurs(args)]);
      t.not(reference.code, 0, `${entry.name}: the reference refuses it (exit ${reference.code})`);
      t.equal(reference.stdout, '', `${entry.name}: the reference prints nothing on stdout`);
      t.equal(ours.code, entry.ourExit, `${entry.name}: ours exits ${entry.ourExit}: ${ours.stderr.trim()}`);
      t.equal(ours.stdout, '', `${entry.name}: ours prints nothing on stdout`);
      const lines = ours.stderr.split('\n').filter((line) => line !== '');
      // A service refusal may add one `hint:` line with the likely local cause.
      t.ok(lines.length === 1 || (lines.length === 2 && lines[1]?.startsWith('hint: ') === true), `${entry.name}: ours says why in one line (and at most a hint)`);
      t.notMatch(ours.stderr, /\n\s+at /, `${entry.name}: no stack trace`);
      if (reference.code !== ours.code) exitCodeDiffers += 1;
    }
  };
  await Promise.all([worker(), worker()]);
  const usageErrors = BAD_INPUTS.filter((entry) => entry.ourExit === 2).length;
  t.equal(exitCodeDiffers, usageErrors, 'the exit codes differ exactly for the usage errors (ours 2, the reference 1)');
  t.equal(resultRow('bad-input').outcome, 'differs on purpose');
});
