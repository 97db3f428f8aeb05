import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runCli, type RunResult } from '../helpers/cli.js';
import { startEnrollRig } from './enroll-rig.js';

/** enroll's refusals and its import checks, end to end on SoftHSM: one line each, nothing left behind. */
const { fixture, env, withPin, token, issue, assertOneLineFailure, privateKeyAttributes } = await startEnrollRig(t);

t.test('without --out the request alone goes to stdout and the report to stderr; a chosen id is kept; a pin-value is never echoed', async (t) => {
  const result = await runCli(['enroll', '--private-key', `${token};object=piped;id=%7A?pin-value=${fixture.pin}`, '--pkcs11-lib', fixture.module, '--subject', 'CN=piped'], { env: env() });
  t.notMatch(result.stdout + result.stderr, fixture.pin, 'the PIN from the URI appears nowhere');
  t.equal(result.code, 0);
  t.match(result.stdout, /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n$/);
  t.match(result.stderr, /^Generated EC P-256 key "piped" \(id 7a\) inside the token: sensitive true, extractable false\n {2}key: pkcs11:.*;object=piped;type=private;id=%7A\nCertificate request printed on stdout\nNext steps:\n {2}1\. /);
});

t.test('refusals: one line, exit code, and nothing generated', async (t) => {
  const enroll = (args: string[], runEnv = withPin): Promise<RunResult> => runCli(['enroll', '--pkcs11-lib', fixture.module, ...args], { env: runEnv });

  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=ec-p256`, '--subject', 'CN=x']),
    `token "${fixture.tokenLabel}" already holds 3 object(s) labelled "ec-p256": choose another object= in the URI (see \`roles-anywhere-signer list --login\`); nothing was generated`);
  // id 01 is the fixture's ec-p256: private and public key, certificate and attestation certificate.
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=fresh;id=%01`, '--subject', 'CN=x']),
    `token "${fixture.tokenLabel}" already holds 4 object(s) with id %01: choose another id= in the URI, or leave it out to have one chosen; nothing was generated`);
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=wrong-pin`, '--subject', 'CN=x'], env({ ROLES_ANYWHERE_PIN: '999999' })),
    `wrong PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) (CKR_PIN_INCORRECT; the token reports few tries left): it was not retried; check the PIN and its source, then run again`);
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=no-pin`, '--subject', 'CN=x'], env()),
    `PIN for token "${fixture.tokenLabel}" (serial ${fixture.tokenSerial}) is needed but there is no terminal to ask on: set ROLES_ANYWHERE_PIN, add pin-source=file:/path (or pin-source=|command) to the URI, or run from a terminal`);
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=bad-subject`, '--subject', 'O=Example']),
    '--subject "O=Example" is not a distinguished name (it has no CN; the service names sessions after the CN (sourceIdentity)): write it as "CN=name,O=Organisation,C=US" (types: CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, UID, DC)', 2);
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=x`, '--subject', 'CN=x', '--key-type', 'ed25519']),
    '--key-type "ed25519" is not one enroll can generate: use one of ec-p256, ec-p384, rsa-2048, rsa-3072', 2);
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=x;type=cert`, '--subject', 'CN=x']),
    'the key URI says type=cert: enroll generates a private key; drop type= or write type=private', 2);
  assertOneLineFailure(t, await enroll(['--subject', 'CN=x']),
    'enroll needs --private-key pkcs11:token=LABEL (the token to generate the key in; add object=NAME and id=%01 to name it)', 2);
  const existing = join(fixture.dir, 'fixture.json');
  assertOneLineFailure(t, await enroll(['--private-key', `${token};object=x`, '--subject', 'CN=x', '--out', existing]),
    `--out ${existing} already exists: remove it or name a new file (nothing was generated)`, 2);
  for (const label of ['wrong-pin', 'no-pin', 'bad-subject', 'x', 'fresh']) {
    t.same(privateKeyAttributes(label), [], `no key "${label}" was left on the token`);
  }
});

t.test('a request that cannot be written leaves no key behind, so the same label works on the rerun', async (t) => {
  const unwritable = join(fixture.dir, 'no-such-dir', 'req.pem');
  const failed = await runCli(['enroll', '--private-key', `${token};object=retry`, '--pkcs11-lib', fixture.module, '--subject', 'CN=retry', '--out', unwritable], { env: withPin });
  assertOneLineFailure(t, failed, `cannot write the certificate request to ${unwritable} (ENOENT): the new key was removed from the token again; choose a writable --out and run enroll again`, 2);
  t.same(privateKeyAttributes('retry'), [], 'the key was destroyed');
  const rerun = await runCli(['enroll', '--private-key', `${token};object=retry`, '--pkcs11-lib', fixture.module, '--subject', 'CN=retry', '--out', join(fixture.dir, 'retry.csr')], { env: withPin });
  t.equal(rerun.code, 0, rerun.stderr);
  t.equal(privateKeyAttributes('retry').length, 1);
});

t.test('import refuses a certificate for another key, and a second certificate for the same id', async (t) => {
  const csrPath = join(fixture.dir, 'import-a.csr');
  const a = JSON.parse((await runCli(['enroll', '--private-key', `${token};object=import-a`, '--pkcs11-lib', fixture.module, '--subject', 'CN=import-a', '--out', csrPath, '--json'], { env: withPin })).stdout) as { keyUri: string; id: string };
  const certificatePath = join(fixture.dir, 'import-a.crt');
  await issue(csrPath, certificatePath);
  const other = await runCli(['enroll', '--import-certificate', certificatePath, '--private-key', `${token};object=ec-p256`, '--pkcs11-lib', fixture.module], { env: withPin });
  assertOneLineFailure(t, other, `the certificate in ${certificatePath} (CN=import-a) is not for the key ${token};object=ec-p256: its public key differs; import the certificate issued for this key's request`);
  const first = await runCli(['enroll', '--import-certificate', certificatePath, '--private-key', a.keyUri, '--pkcs11-lib', fixture.module, '--json'], { env: withPin });
  t.equal(first.code, 0, first.stderr);
  t.match(JSON.parse(first.stdout), { id: a.id, subject: 'CN=import-a', pkcs11Lib: fixture.module });
  const again = await runCli(['enroll', '--import-certificate', certificatePath, '--private-key', a.keyUri, '--pkcs11-lib', fixture.module], { env: withPin });
  assertOneLineFailure(t, again, `token "${fixture.tokenLabel}" already holds a certificate with the key's id ${a.id}: delete it first (pkcs11-tool --delete-object --type cert --id ${a.id}) if it is to be replaced`);
  assertOneLineFailure(t, await runCli(['enroll', '--import-certificate', certificatePath, '--subject', 'CN=x', '--private-key', a.keyUri], { env: withPin }),
    '--import-certificate stores a certificate for an existing key: leave out --subject and --out', 2);
  t.equal((await readFile(certificatePath, 'utf8')).startsWith('-----BEGIN CERTIFICATE-----'), true);
});
