import t from 'tap';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derToPem, startEmulator } from '../../src/emulator/index.js';
import { startRig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { buildSoftHsmFixture } from '../keys/pkcs11/softhsm-fixture.js';
import { startProgram } from '../serve/process.js';
import { buildSea } from '../../scripts/sea/build.js';

/**
 * The standalone executable, built as `npm run build:sea` builds it, then run with no Node, no
 * node_modules and no package around it: a copy in a directory of its own, from another working
 * directory. Its native addons come from its own assets, through a private directory that is
 * gone again once they are loaded (checked in a private XDG_RUNTIME_DIR).
 */
// postject rewrites a ~100 MB node binary; the rest is a few process runs.
t.setTimeout(300_000);

const scratch = await mkdtemp(join(tmpdir(), 'ras-sea-test-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));
const built = await buildSea(join(scratch, 'bin', 'roles-anywhere-signer'));
const runtimeDir = join(scratch, 'runtime');
await mkdir(runtimeDir, { mode: 0o700 });
const workDir = join(scratch, 'elsewhere');
await mkdir(workDir);
const PROCESS_JSON = /^\{"Version":1,"AccessKeyId":"ASIA[A-Z0-9]{16}","SecretAccessKey":"[^"]+","SessionToken":"[^"]+","Expiration":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\}$/;

/** No NODE_* variables, no PATH to node: the executable must need neither. */
function seaEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = isolatedEnv({ XDG_RUNTIME_DIR: runtimeDir, PATH: '/usr/bin:/bin', ...extra });
  for (const key of Object.keys(env)) if (key.startsWith('NODE_') || key.startsWith('npm_')) delete env[key];
  return env;
}

const rig = await startRig();
t.teardown(() => rig.close());

t.test('one executable file, its licences beside it', async (t) => {
  const info = await stat(built.executable);
  t.ok(info.isFile() && (info.mode & 0o111) !== 0, 'an executable file');
  t.same(await readdir(join(scratch, 'bin')), ['roles-anywhere-signer', 'roles-anywhere-signer.LICENSES.txt']);
});

t.test('version, without Node on PATH', async (t) => {
  const result = await run(built.executable, ['version'], { env: seaEnv(), cwd: workDir });
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  t.same(result, { code: 0, stdout: `${version}\n`, stderr: '' });
});

t.test('credential-process with a key file gets credentials from the emulator', async (t) => {
  const identity = await rig.issueFileIdentity('sea-file-key');
  const before = rig.stats.createSession;
  const result = await run(built.executable, ['credential-process', '--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', identity.chainPath, ...rig.sessionFlags], {
    env: seaEnv(),
    cwd: workDir,
  });
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  t.match(result.stdout, PROCESS_JSON);
  t.equal(rig.stats.createSession, before + 1);
});

t.test('credential-process with a SoftHSM key, through the pkcs11js binding the executable carries', async (t) => {
  const fixture = await buildSoftHsmFixture(t, ['ec-p256']);
  const trustAnchorArn = 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/00000000-0000-4000-8000-0000000000aa';
  const profileArn = 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-4000-8000-0000000000bb';
  const roleArn = 'arn:aws:iam::123456789012:role/sea';
  const emulator = await startEmulator(
    {
      region: 'us-east-1',
      accountId: '123456789012',
      trustAnchors: [{ arn: trustAnchorArn, certificates: [derToPem(fixture.rootCa)], enabled: true }],
      profiles: [{ arn: profileArn, roleArns: [roleArn], durationSeconds: 3600, enabled: true }],
    },
    { port: 0, host: '127.0.0.1' },
  );
  t.teardown(() => emulator.close());
  const result = await run(
    built.executable,
    ['credential-process', '--certificate', `pkcs11:token=${fixture.tokenLabel};object=ec-p256;type=cert`, '--pkcs11-lib', fixture.module,
      '--trust-anchor-arn', trustAnchorArn, '--profile-arn', profileArn, '--role-arn', roleArn, '--endpoint', emulator.url],
    { env: seaEnv({ SOFTHSM2_CONF: fixture.conf, ROLES_ANYWHERE_PIN: fixture.pin }), cwd: workDir },
  );
  t.equal(result.stderr, '');
  t.equal(result.code, 0);
  t.match(result.stdout, PROCESS_JSON);
  t.equal(emulator.stats.createSession, 1, 'the emulator verified the token signature and the chain');
  t.same(await readdir(runtimeDir), [], 'the extracted binding is gone from the private directory');
});

t.test('serve --hop-limit 1 loads the hardening addon from the executable', async (t) => {
  const identity = await rig.issueFileIdentity('sea-serve');
  const serve = startProgram(built.executable, ['serve', '--port', '0', '--hop-limit', '1', '--certificate', identity.certificatePath, '--private-key', identity.keyPath, '--intermediates', identity.chainPath, ...rig.sessionFlags], seaEnv(), workDir);
  t.teardown(() => serve.stop('SIGKILL'));
  const [line] = await serve.lines(1, 60_000);
  const stderr = serve.stderr();
  const endpoint = /^export AWS_EC2_METADATA_SERVICE_ENDPOINT=(http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line ?? '')?.[1];
  t.ok(endpoint, `serve printed its endpoint (stderr: ${stderr})`);
  t.notMatch(stderr, /warning|cannot be enforced/);
  t.match(stderr, /\(hop limit 1\)/);
  const token = await fetch(new URL('latest/api/token', endpoint ?? 'http://127.0.0.1:9/'), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } });
  t.equal(token.status, 200);
  t.same(await readdir(runtimeDir), [], 'nothing left in the private directory while serving');
  t.equal(await serve.stop('SIGTERM'), 0, 'stops cleanly');
});

t.test('when no private directory allows loading the addon, serve says so and what to do', async (t) => {
  const identity = await rig.issueFileIdentity('sea-no-dir');
  const missing = join(scratch, 'no-such-dir');
  const result = await run(built.executable, ['serve', '--port', '0', '--hop-limit', '1', '--certificate', identity.certificatePath, '--private-key', identity.keyPath, ...rig.sessionFlags], {
    env: seaEnv({ XDG_RUNTIME_DIR: missing, TMPDIR: missing, HOME: missing }),
    cwd: workDir,
  });
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  t.match(result.stderr, /^roles-anywhere-signer: --hop-limit 1 cannot be enforced: the executable's roles_anywhere_native\.node could not be loaded from .*: set XDG_RUNTIME_DIR to a private directory on a file system that allows executables\n$/);
});
