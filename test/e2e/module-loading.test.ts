/**
 * The guard rail of the cold-start work (issue 8): which modules each quick path loads, recorded
 * in the real CLI process (test/helpers/module-recorder.ts) rather than timed, so it is
 * deterministic. A dependency that creeps back onto one of these paths fails here. The CLI is
 * the bundle users run (dist/cli): each chunk it loads counts as every module inside it
 * (test/helpers/bundle-chunks.ts), so a chunk that drags in more than its path needs fails too.
 */
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run } from '../helpers/cli.js';
import { buildRoot, cliPath } from '../helpers/paths.js';
import { expandBundleChunks } from '../helpers/bundle-chunks.js';
import { createTpmKeys } from '../../scripts/fixtures/swtpm.js';
import { swtpmFor } from '../keys/tpm/rig.js';

const RECORDER = join(buildRoot, 'test', 'helpers', 'module-recorder.js');

/** Packages that no quick path needs: the ASN.1 stack, the PKCS#11 bindings, DI/metadata, HTTP clients. */
const FORBIDDEN_PACKAGES: readonly RegExp[] = [
  /\/node_modules\/@peculiar\/asn1-/,
  /\/node_modules\/asn1js\//,
  /\/node_modules\/graphene-pk11\//,
  /\/node_modules\/pkcs11js\//,
  /\/node_modules\/tsyringe\//,
  /\/node_modules\/reflect-metadata\//,
  /\/node_modules\/undici\//,
  /\/node_modules\/@smithy\//,
];
const PKCS12_MODULES: readonly RegExp[] = [/\/src\/keys\/file\/pkcs12\.js$/, /\/node_modules\/@peculiar\/asn1-pfx\//];
/** Command files of src/cli/ other than `keep`: a run of one command loads only its own. */
const otherCommandFiles = (keep: string): RegExp =>
  new RegExp(`/src/cli/(?!${keep}\\.js$)(credential-process|sign-string|read-certificate-data|pkcs11|serve|update|emulate|version)\\.js$`);
const PKCS11_CODE = /\/src\/keys\/pkcs11\/(?!descriptor\.js$)/;
const TPM_CODE = /\/src\/keys\/tpm\/(?!descriptor\.js$)/;

let rig: Rig;
let scratch: string;
t.before(async () => {
  rig = await startRig();
  scratch = await mkdtemp(join(tmpdir(), 'ras-modules-'));
});
t.teardown(async () => {
  await rig.close();
  await rm(scratch, { recursive: true, force: true });
});

let runs = 0;
/** Runs the CLI with the recorder preloaded; the loaded modules as paths (file: URLs decoded). */
async function loadedModules(t: Test, args: readonly string[], env: NodeJS.ProcessEnv = isolatedEnv()): Promise<string[]> {
  const recordFile = join(scratch, `modules-${++runs}.txt`);
  const result = await run(process.execPath, ['--import', RECORDER, cliPath, ...args], { env: { ...env, MODULE_RECORD_FILE: recordFile } });
  t.equal(result.code, 0, `the command succeeds: ${result.stderr}`);
  const lines = (await readFile(recordFile, 'utf8')).split('\n').filter((line) => line !== '');
  return expandBundleChunks([...new Set(lines.map((line) => (line.startsWith('file:') ? fileURLToPath(line) : line)))]);
}

function assertNoneLoaded(t: Test, modules: readonly string[], patterns: readonly RegExp[], what: string): void {
  for (const pattern of patterns) {
    t.same(modules.filter((path) => pattern.test(path)), [], `${what}: nothing matching ${String(pattern)}`);
  }
}

/** The record is only evidence if it sees the entry point's chunk and a package bundled into another. */
function assertRecorderSawBothKinds(t: Test, modules: readonly string[]): void {
  t.ok(modules.some((path) => path.endsWith(join('src', 'cli', 'main.js'))), 'the recorder saw the entry point');
  t.ok(modules.some((path) => /\/node_modules\/commander\/.*\.js$/.test(path)), 'the recorder saw a bundled package (commander)');
}

t.test('credential-process with a key file loads no ASN.1, PKCS#11, TPM, PKCS#12 or HTTP-client package', async (t) => {
  const id = await rig.issueFileIdentity('modules-file');
  const modules = await loadedModules(t, ['credential-process', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags]);
  assertRecorderSawBothKinds(t, modules);
  assertNoneLoaded(t, modules, FORBIDDEN_PACKAGES, 'file key');
  assertNoneLoaded(t, modules, PKCS12_MODULES, 'file key (not PKCS#12)');
  assertNoneLoaded(t, modules, [PKCS11_CODE, TPM_CODE], 'file key: only the file source\'s code');
  assertNoneLoaded(t, modules, [otherCommandFiles('credential-process')], 'file key: no other command\'s file');
});

t.test('credential-process --cache, hit: no key source implementation at all', async (t) => {
  const id = await rig.issueFileIdentity('modules-cache');
  const runtimeDir = join(scratch, 'xdg-runtime');
  const env = isolatedEnv({ XDG_RUNTIME_DIR: runtimeDir, XDG_CACHE_HOME: undefined });
  const args = ['credential-process', '--cache', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags];
  await loadedModules(t, args, env);
  const before = rig.stats.createSession;
  const modules = await loadedModules(t, args, env);
  t.equal(rig.stats.createSession, before, 'the second run is a cache hit: no CreateSession');
  assertRecorderSawBothKinds(t, modules);
  assertNoneLoaded(t, modules, FORBIDDEN_PACKAGES, '--cache hit');
  assertNoneLoaded(t, modules, [/\/src\/keys\/file\.js$/, /\/src\/keys\/file\/read\.js$/, /\/src\/certs\/rules\.js$/, PKCS11_CODE, TPM_CODE], '--cache hit: no key or certificate code');
});

t.test('version loads no key, certificate or network code', async (t) => {
  const modules = await loadedModules(t, ['version']);
  assertRecorderSawBothKinds(t, modules);
  assertNoneLoaded(t, modules, FORBIDDEN_PACKAGES, 'version');
  assertNoneLoaded(t, modules, [/\/src\/certs\//, /\/src\/sigv4x509\//, /\/src\/rolesanywhere\//, /\/src\/keys\//, PKCS11_CODE, TPM_CODE, otherCommandFiles('version')], 'version');
});

t.test('credential-process with a TSS2 key file on swtpm: the TPM source only, none of the listed packages', async (t) => {
  const swtpm = await swtpmFor(t, { mode: 'tcp' });
  const fixture = await createTpmKeys(swtpm, join(scratch, 'tpm-keys'), ['ec-p256'], rig.intermediate);
  const entry = fixture.keys['ec-p256'];
  if (entry?.keyPath === undefined) throw new Error('the swtpm fixture made no ec-p256 key file');
  const modules = await loadedModules(
    t,
    ['credential-process', '--certificate', entry.certificatePath, '--private-key', entry.keyPath, '--intermediates', join(rig.dir, 'intermediate.pem'), ...rig.sessionFlags],
    isolatedEnv({ ROLES_ANYWHERE_TPM_TCTI: fixture.tcti }),
  );
  t.ok(modules.some((path) => /\/src\/keys\/tpm\/source\.js$/.test(path)), 'the TPM source is loaded');
  assertNoneLoaded(t, modules, FORBIDDEN_PACKAGES, 'TSS2 key');
  assertNoneLoaded(t, modules, [...PKCS12_MODULES, PKCS11_CODE, /\/src\/keys\/file\.js$/], 'TSS2 key: no other source\'s code');
});

t.test('a PKCS#12 file does load the PKCS#12 reader (the recorder would notice if it were missing)', async (t) => {
  const id = await rig.issueFileIdentity('modules-p12');
  const bundle = join(scratch, 'identity.p12');
  const exported = await run('openssl', ['pkcs12', '-export', '-inkey', id.keyPath, '-in', id.certificatePath, '-passout', 'pass:p12-password', '-out', bundle]);
  t.equal(exported.code, 0, exported.stderr);
  const modules = await loadedModules(t, ['credential-process', '--certificate', bundle, '--intermediates', id.chainPath, ...rig.sessionFlags], isolatedEnv({ ROLES_ANYWHERE_PKCS8_PASSWORD: 'p12-password' }));
  t.ok(modules.some((path) => PKCS12_MODULES[0]?.test(path)), 'src/keys/file/pkcs12.js is loaded for a PKCS#12 file');
  assertNoneLoaded(t, modules, [PKCS11_CODE, TPM_CODE], 'PKCS#12 file');
});

/**
 * Node's own modules, which the recorder above cannot tell apart from its own loader's: a
 * CommonJS preload writes `process.moduleLoadList` at exit, in a process without the test
 * runner's NODE_OPTIONS (its hooks load streams and net themselves). On a --cache hit nothing
 * opens a socket or writes a file, so neither net (what Node's stdout and stderr streams on a
 * pipe are made of; std-output.ts writes without them) nor node:fs/promises (readline and the
 * file watchers come with it) has any business there.
 */
async function builtinsLoaded(t: Test, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const listFile = join(scratch, `builtins-${++runs}.txt`);
  const preload = join(scratch, 'builtins-preload.cjs');
  await writeFile(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(listFile)}, process.moduleLoadList.join('\\n')));\n`);
  // stdout and stderr are pipes here (run() reads both), as under an SDK.
  const result = await run('sh', ['-c', 'unset NODE_OPTIONS; exec "$@"', 'sh', process.execPath, '-r', preload, cliPath, ...args], { env });
  t.equal(result.code, 0, `the command succeeds: ${result.stderr}`);
  return (await readFile(listFile, 'utf8')).split('\n');
}

t.test('credential-process --cache, hit: no socket or stream module, no node:fs/promises', async (t) => {
  const id = await rig.issueFileIdentity('builtins-cache');
  const env = isolatedEnv({ XDG_RUNTIME_DIR: join(scratch, 'xdg-runtime-builtins'), XDG_CACHE_HOME: undefined });
  const args = ['credential-process', '--cache', '--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath, ...rig.sessionFlags];
  const miss = await builtinsLoaded(t, args, env);
  t.ok(miss.includes('NativeModule net'), 'the first run (a miss, over HTTP) does load net: the list is evidence');
  const before = rig.stats.createSession;
  const hit = await builtinsLoaded(t, args, env);
  t.equal(rig.stats.createSession, before, 'the second run is a cache hit');
  t.same(hit.filter((name) => /^NativeModule (net|tty|http|https|tls|fs\/promises|internal\/fs\/promises|readline|child_process)$/.test(name)), [], 'none of these on a hit');
});

t.test('version: no crypto (the launcher checks its cache without it), no socket, no node:fs/promises', async (t) => {
  const loaded = await builtinsLoaded(t, ['version'], isolatedEnv());
  t.ok(loaded.includes('NativeModule vm'), 'the launcher\'s own modules are in the list: it is evidence');
  t.same(loaded.filter((name) => /^NativeModule (crypto|net|tty|http|https|tls|fs\/promises|child_process|os)$/.test(name)), []);
});
