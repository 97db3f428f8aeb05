import t, { type Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { cp, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../scripts/build-cli.js';
import { startRig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run, type RunResult } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';
import { startProgram } from '../serve/process.js';

/**
 * Installs the package as a user does and uses it from the installed copy only: `npm pack`, then
 * `npm install <tarball>` into two fresh projects, (a) on this machine as it is and (b) with no
 * working C/C++ compiler. Everything runs against the emulator of this checkout on 127.0.0.1.
 * npm works from its local cache (--prefer-offline): CI has filled it with `npm ci`.
 */
// A package build of src/, two installs (one builds pkcs11js, about 11 s) and a dozen CLI runs,
// on a shared 2-core machine.
t.setTimeout(420_000);

const scratch = await mkdtemp(join(tmpdir(), 'ras-install-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;
const BUILT_ADDON = join('native', 'build', 'Release', 'roles_anywhere_native.node');
const PREBUILT_ADDON = join('prebuilds', 'linux-x64', 'roles_anywhere_native.glibc.node');

/** npm's own environment, minus what `npm test` exported for this checkout (scripts, prefixes). */
function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(isolatedEnv())) {
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') && !['npm_config_cache', 'npm_config_registry', 'npm_config_nodedir'].includes(lower)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * What `npm pack` packs, staged as prepack makes it but outside the checkout (tests must not
 * rewrite dist/ under other tests' feet): the package build of src/ (tsconfig.package.json), the
 * CLI bundle built for release (scripts/build-cli.ts --release: the `bin`), the prebuilt addon,
 * package.json and what its `files` list names. That list decides what enters the
 * tarball.
 */
async function packTarball(): Promise<string> {
  const stage = join(scratch, 'stage');
  await mkdir(join(stage, 'native'), { recursive: true });
  await mkdir(join(stage, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'README.md', 'LICENSE', 'native/hardening.c', 'native/binding.gyp', 'scripts/build-native.sh', 'scripts/build-prebuilt.sh']) {
    await copyFile(join(repoRoot, file), join(stage, file));
  }
  await cp(join(repoRoot, 'docs'), join(stage, 'docs'), { recursive: true });
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const compiled = await run(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.package.json'), '--outDir', join(stage, 'dist'), '--tsBuildInfoFile', join(scratch, 'package.tsbuildinfo')], { timeoutMs: 240_000 });
  if (compiled.code !== 0) throw new Error(`the package build failed: ${compiled.stdout}${compiled.stderr}`);
  await buildCli(join(stage, 'dist', 'cli'), true);
  const prebuilt = await run('bash', [join(stage, 'scripts', 'build-prebuilt.sh')], { env: npmEnv(), timeoutMs: 60_000 });
  if (prebuilt.code !== 0) throw new Error(`build-prebuilt.sh failed: ${prebuilt.stderr}`);
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: stage, env: npmEnv(), timeoutMs: 120_000 });
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  if (info === undefined) throw new Error('npm pack printed no package');
  packedFiles = info.files.map((file) => file.path);
  return join(scratch, info.filename);
}

let packedFiles: readonly string[] = [];
const tarball = await packTarball();

interface Consumer {
  readonly dir: string;
  readonly install: RunResult;
  readonly packageDir: string;
  readonly bin: string;
}

/** A fresh project that approves the two install scripts (npm 11 otherwise warns), then installs the tarball. */
async function installConsumer(name: string, extraEnv: Record<string, string>): Promise<Consumer> {
  const dir = join(scratch, name);
  await mkdir(dir);
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module', allowScripts: { [`file:${tarball}`]: true, pkcs11js: true } }, null, 2)}\n`,
  );
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, env: npmEnv(extraEnv), timeoutMs: 240_000 });
  const packageDir = join(dir, 'node_modules', 'roles-anywhere-signer');
  return { dir, install, packageDir, bin: join(dir, 'node_modules', '.bin', 'roles-anywhere-signer') };
}

const withCompiler = await installConsumer('with-compiler', {});
// No compiler and no Node headers: every node-gyp build fails, as on a slim container.
const noCompiler = await installConsumer('no-compiler', { CC: '/nonexistent/cc', CXX: '/nonexistent/c++', npm_config_nodedir: '/nonexistent' });

const rig = await startRig();
t.teardown(() => rig.close());
const identity = await rig.issueFileIdentity('installed-client');
const fileKeyFlags = ['--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', identity.chainPath];

t.test('the tarball holds the built code, the licence and the prebuilt addon, and nothing that points outside it', async (t) => {
  for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/emulator.js', 'dist/src/cli/main.js', PREBUILT_ADDON, 'native/hardening.c', 'scripts/build-native.sh']) {
    t.ok(packedFiles.includes(file), `${file} is packed`);
  }
  t.same(packedFiles.filter((file) => file.endsWith('.map')), [], 'no source maps (their sources are not shipped)');
  const pointingAtMaps: string[] = [];
  t.ok(packedFiles.includes('dist/cli/roles-anywhere-signer.cjs'), 'the bin (the bundle\'s launcher) is packed');
  t.ok(packedFiles.filter((file) => /^dist\/cli\/[\w-]+\.cjs$/.test(file)).length > 20, 'with the chunks it loads');
  t.notOk(packedFiles.includes('dist/cli/build.json'), 'the chunk map is for tests, not shipped');
  for (const file of packedFiles.filter((name) => name.endsWith('.js') || name.endsWith('.cjs'))) {
    if ((await readFile(join(withCompiler.packageDir, file), 'utf8')).includes('sourceMappingURL')) pointingAtMaps.push(file);
  }
  t.same(pointingAtMaps, [], 'and no code that points at one');
  t.same(packedFiles.filter((file) => /^(test|scripts\/(?!build-native\.sh$)|src)\//.test(file)), [], 'no tests, checkout scripts or TypeScript sources');
});

t.test('(a) with a compiler: installs without a warning, builds the addon and pkcs11js', async (t) => {
  t.equal(withCompiler.install.code, 0, withCompiler.install.stderr);
  t.notMatch(withCompiler.install.stderr, /install-scripts|ERR!/, 'no allowScripts warning, no error');
  t.ok(existsSync(join(withCompiler.packageDir, BUILT_ADDON)), 'the install script compiled the hardening addon');
  t.ok(existsSync(join(withCompiler.dir, 'node_modules', 'pkcs11js', 'build', 'Release', 'pkcs11.node')), 'pkcs11js was built');
});

t.test('(b) without a compiler: installs all the same, without pkcs11js, with the prebuilt addon', async (t) => {
  t.equal(noCompiler.install.code, 0, noCompiler.install.stderr);
  t.notMatch(noCompiler.install.stderr, /install-scripts|ERR!/, 'no allowScripts warning, no error');
  t.notOk(existsSync(join(noCompiler.packageDir, BUILT_ADDON)), 'nothing was compiled');
  t.ok(existsSync(join(noCompiler.packageDir, PREBUILT_ADDON)), 'the prebuilt addon is there');
  t.notOk(existsSync(join(noCompiler.dir, 'node_modules', 'pkcs11js')), 'the optional pkcs11js was left out');
});

for (const consumer of [withCompiler, noCompiler]) {
  const label = consumer === withCompiler ? '(a)' : '(b)';
  t.test(`${label} the installed command prints its version and gets credentials with a key file`, async (t) => {
    const version = await run(consumer.bin, ['version']);
    t.same(version, { code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
    const before = rig.stats.createSession;
    const result = await run(consumer.bin, ['credential-process', ...fileKeyFlags, ...rig.sessionFlags]);
    t.equal(result.stderr, '');
    t.equal(result.code, 0);
    t.match(result.stdout, PROCESS_JSON);
    t.equal(rig.stats.createSession, before + 1, 'one CreateSession, accepted by the emulator');
  });

  t.test(`${label} the installed serve enforces --hop-limit 1 with the addon it has`, async (t) => {
    const serve = startProgram(consumer.bin, ['serve', '--port', '0', '--hop-limit', '1', ...fileKeyFlags, ...rig.sessionFlags], isolatedEnv());
    t.teardown(() => serve.stop('SIGKILL'));
    const [line] = await serve.lines(1, 60_000);
    const stderr = serve.stderr();
    const endpoint = /^export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line ?? '')?.[1];
    t.ok(endpoint, `serve printed its endpoint (stderr: ${stderr})`);
    t.notMatch(stderr, /warning|cannot be enforced/, 'the addon loaded: no warning');
    t.match(stderr, /\(hop limit 1\)/);
    const token = await fetch(new URL('latest/api/token', endpoint ?? 'http://127.0.0.1:9/'), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
    t.equal(token.status, 200, 'IMDSv2 answers');
    t.equal(await serve.stop('SIGTERM'), 0, 'stops cleanly');
  });

  t.test(`${label} the package imports from an ES module and requires from CommonJS, emulator apart`, async (t) => {
    const esm = [
      `import { fromRolesAnywhere, isSignerError } from 'roles-anywhere-signer';`,
      `import { startEmulator } from 'roles-anywhere-signer/emulator';`,
      `const options = JSON.parse(process.env.PROVIDER_OPTIONS);`,
      `const provider = fromRolesAnywhere(options);`,
      `const credentials = await provider();`,
      `await provider.close();`,
      `console.log(JSON.stringify({ accessKeyId: credentials.accessKeyId.slice(0, 4), isSignerError: typeof isSignerError, startEmulator: typeof startEmulator }));`,
    ].join('\n');
    await writeFile(join(consumer.dir, 'use.mjs'), esm);
    const options = { certificate: identity.certificatePath, privateKey: identity.keyPath, intermediates: identity.chainPath, trustAnchorArn: rig.trustAnchorArn, profileArn: rig.profileArn, roleArn: rig.roleArn, endpoint: rig.url };
    const imported = await run(process.execPath, ['use.mjs'], { cwd: consumer.dir, env: isolatedEnv({ PROVIDER_OPTIONS: JSON.stringify(options) }) });
    t.equal(imported.stderr, '');
    t.same(JSON.parse(imported.stdout || 'null'), { accessKeyId: 'ASIA', isSignerError: 'function', startEmulator: 'function' });

    const cjs = [
      `const main = require('roles-anywhere-signer');`,
      `const emulator = require('roles-anywhere-signer/emulator');`,
      `console.log(JSON.stringify({ fromRolesAnywhere: typeof main.fromRolesAnywhere, mainStartEmulator: typeof main.startEmulator, startEmulator: typeof emulator.startEmulator }));`,
    ].join('\n');
    await writeFile(join(consumer.dir, 'use.cjs'), cjs);
    const required = await run(process.execPath, ['use.cjs'], { cwd: consumer.dir });
    t.equal(required.stderr, '', 'no error and no experimental warning');
    t.same(JSON.parse(required.stdout || 'null'), { fromRolesAnywhere: 'function', mainStartEmulator: 'undefined', startEmulator: 'function' });
  });
}

t.test('(a) a TypeScript consumer type-checks against the installed declarations', async (t) => {
  const source = [
    `import { fromRolesAnywhere, isSignerError, type RolesAnywhereProviderOptions, type SignerErrorCode } from 'roles-anywhere-signer';`,
    `import { startEmulator, type EmulatorConfig } from 'roles-anywhere-signer/emulator';`,
    `const options: RolesAnywhereProviderOptions = { certificate: 'cert.pem', privateKey: 'pkcs11:token=t;object=k', trustAnchorArn: 'a', profileArn: 'p', roleArn: 'r' };`,
    `const provider = fromRolesAnywhere(options);`,
    `const config: EmulatorConfig = { region: 'us-east-1', accountId: '123456789012', trustAnchors: [], profiles: [] };`,
    `export async function check(error: unknown): Promise<SignerErrorCode | string> {`,
    `  const emulator = await startEmulator(config, { port: 0 });`,
    `  const credentials = await provider();`,
    `  await emulator.close();`,
    `  return isSignerError(error) ? error.code : credentials.accessKeyId;`,
    `}`,
    `// @ts-expect-error the main entry has no emulator`,
    `export type NoEmulatorHere = typeof import('roles-anywhere-signer').startEmulator;`,
  ].join('\n');
  await writeFile(join(withCompiler.dir, 'consumer.ts'), `${source}\n`);
  const tsconfig = {
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, typeRoots: [join(repoRoot, 'node_modules', '@types')], types: ['node'] },
    files: ['consumer.ts'],
  };
  await writeFile(join(withCompiler.dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const result = await run(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: withCompiler.dir, timeoutMs: 120_000 });
  t.same(result, { code: 0, stdout: '', stderr: '' });
});

t.test('(a) list shows the SoftHSM token through the installed pkcs11js', async (t: Test) => {
  const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
  const result = await run(withCompiler.bin, ['list', '--pkcs11-lib', fixture.module], { env: isolatedEnv({ SOFTHSM2_CONF: fixture.conf }) });
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  t.match(result.stdout, `token=${fixture.tokenLabel}`);
  t.match(result.stdout, 'object=ec-p256');
});

// src/keys/pkcs11/binding.ts turns a missing pkcs11js into this message.
t.test('(b) without pkcs11js, list says in one line what is missing', async (t) => {
  const result = await run(noCompiler.bin, ['list', '--pkcs11-lib', '/nonexistent/module.so']);
  t.equal(result.code, 1, 'exit 1');
  t.equal(result.stdout, '');
  t.equal(result.stderr.split('\n').length, 2, `one line, no stack trace: ${result.stderr}`);
  t.match(result.stderr, /^roles-anywhere-signer: PKCS#11 support is not installed \(the optional pkcs11js binding could not be loaded\)/);
});

t.test('(b) the fix the warning names works from the installed package: npm rebuild with a compiler', async (t) => {
  const rebuilt = await run('npm', ['rebuild', 'roles-anywhere-signer', '--no-audit', '--no-fund'], { cwd: noCompiler.dir, env: npmEnv(), timeoutMs: 120_000 });
  t.equal(rebuilt.code, 0, rebuilt.stderr);
  t.ok(existsSync(join(noCompiler.packageDir, BUILT_ADDON)), 'the addon is compiled now');
  t.same((await readdir(join(noCompiler.packageDir, 'native', 'build', 'Release'))).filter((name) => name.endsWith('.node')), ['roles_anywhere_native.node']);
});
