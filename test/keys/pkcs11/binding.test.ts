import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SignerError } from '../../../src/errors.js';
import { loadPkcs11Binding, PKCS11_UNAVAILABLE_MESSAGE } from '../../../src/keys/pkcs11/binding.js';
import { CKA, CKC_X_509, CKF, CKK, CKM, CKO, CKU } from '../../../src/keys/pkcs11/constants.js';
import { isolatedEnv, runCli } from '../../helpers/cli.js';

const pkcs11js = createRequire(import.meta.url)('pkcs11js') as Record<string, unknown>;

t.test('the constants kept here are the PKCS#11 numbers pkcs11js exports', async (t) => {
  const groups: [string, Readonly<Record<string, number>>][] = [['CKA', CKA], ['CKO', CKO], ['CKU', CKU], ['CKM', CKM]];
  for (const [prefix, group] of groups) {
    for (const [name, value] of Object.entries(group)) t.equal(value, pkcs11js[`${prefix}_${name}`], `${prefix}_${name}`);
  }
  for (const name of ['RSA', 'DSA', 'DH', 'EC', 'X9_42_DH', 'GOSTR3410'] as const) t.equal(CKK[name], pkcs11js[`CKK_${name}`], `CKK_${name}`);
  t.equal(CKC_X_509, pkcs11js['CKC_X_509']);
  for (const name of ['RW_SESSION', 'SERIAL_SESSION', 'OS_LOCKING_OK', 'PROTECTED_AUTHENTICATION_PATH', 'TOKEN_INITIALIZED', 'USER_PIN_COUNT_LOW', 'USER_PIN_FINAL_TRY', 'USER_PIN_LOCKED'] as const) {
    t.equal(CKF[name], pkcs11js[`CKF_${name}`], `CKF_${name}`);
  }
});

t.test('a binding that cannot be loaded is PKCS11_UNAVAILABLE, saying what to install', async (t) => {
  const missing = Object.assign(new Error("Cannot find module './build/Release/pkcs11.node'"), { code: 'MODULE_NOT_FOUND' });
  const cases: [string, () => unknown][] = [
    ['not installed', () => { throw missing; }],
    ['installed without its native part', () => ({})],
  ];
  for (const [name, load] of cases) {
    try {
      loadPkcs11Binding(load);
      t.fail(`${name}: should have thrown`);
    } catch (error) {
      t.ok(error instanceof SignerError, `${name}: a SignerError`);
      t.equal((error as SignerError).code, 'PKCS11_UNAVAILABLE', `${name}: code`);
      t.equal((error as SignerError).message, PKCS11_UNAVAILABLE_MESSAGE, `${name}: message`);
    }
  }
  t.match(PKCS11_UNAVAILABLE_MESSAGE, /^PKCS#11 support is not installed \(the optional pkcs11js binding could not be loaded\)/, 'the exact opening other tests and installs rely on');
  t.equal(typeof loadPkcs11Binding().PKCS11, 'function', 'the real binding loads here');
});

t.test('without the binding, PKCS#11 commands say so in one line; other commands do not notice', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ras-no-pkcs11js-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Makes require('pkcs11js') fail as on a machine where npm could not build it.
  const hide = join(dir, 'hide-pkcs11js.cjs');
  await writeFile(hide, `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'pkcs11js' || request.startsWith('pkcs11js/')) throw Object.assign(new Error("Cannot find module 'pkcs11js'"), { code: 'MODULE_NOT_FOUND' });
  return load.call(this, request, ...rest);
};
`);
  const env = isolatedEnv({ NODE_OPTIONS: `--require ${hide}` });
  const commands: [string, string[]][] = [
    ['list', ['list', '--pkcs11-lib', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so']],
    ['credential-process with a pkcs11: URI', ['credential-process', '--certificate', 'pkcs11:token=t;object=k', '--pkcs11-lib', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
      '--trust-anchor-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000aa',
      '--profile-arn', 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-4000-8000-0000000000bb',
      '--role-arn', 'arn:aws:iam::123456789012:role/r', '--endpoint', 'http://127.0.0.1:9']],
  ];
  for (const [name, args] of commands) {
    const result = await runCli(args, { env });
    t.equal(result.code, 1, `${name}: exit 1`);
    t.equal(result.stdout, '', `${name}: nothing on stdout`);
    t.equal(result.stderr, `roles-anywhere-signer: ${PKCS11_UNAVAILABLE_MESSAGE}\n`, `${name}: that one line, no stack trace`);
  }
  const version = await runCli(['version'], { env });
  t.equal(version.code, 0, 'version works without the binding');
});
