import t from 'tap';
import { createHash, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cacheKey,
  certificateIdentity,
  defaultCacheDirectory,
  openCacheDirectory,
  readCacheEntry,
  writeCacheEntry,
  type CacheKeyParts,
} from '../../src/credentials/cache.js';
import { startRig, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run, runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const uid = process.getuid?.();
const creds = (minutesLeft: number) => ({
  accessKeyId: 'ASIACACHED0000000001',
  secretAccessKey: 'cached-secret',
  sessionToken: 'cached-token',
  expiration: new Date(NOW.getTime() + minutesLeft * 60_000),
});

const parts: CacheKeyParts = {
  certificate: 'sha256:00',
  trustAnchorArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a',
  profileArn: 'arn:aws:rolesanywhere:us-east-1:123456789012:profile/p',
  roleArn: 'arn:aws:iam::123456789012:role/r',
  region: 'us-east-1',
  endpoint: 'https://rolesanywhere.us-east-1.amazonaws.com',
  durationSeconds: 3600,
};

let dir: string;
t.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ras-cache-'));
});
t.afterEach(() => rm(dir, { recursive: true, force: true }));

t.test('the key changes with every part that decides the credentials', async (t) => {
  const base = cacheKey(parts);
  t.match(base, /^[0-9a-f]{64}$/);
  t.equal(cacheKey({ ...parts }), base, 'stable');
  const variants: Array<Partial<CacheKeyParts>> = [
    { certificate: 'sha256:01' },
    { trustAnchorArn: `${parts.trustAnchorArn}x` },
    { profileArn: `${parts.profileArn}x` },
    { roleArn: `${parts.roleArn}x` },
    { region: 'eu-west-1' },
    { endpoint: 'http://127.0.0.1:1' },
    { durationSeconds: 900 },
    { roleSessionName: 'me' },
  ];
  const keys = new Set(variants.map((variant) => cacheKey({ ...parts, ...variant })));
  t.equal(keys.size, variants.length, 'all different');
  t.notOk(keys.has(base));
});

t.test('a written entry is read back while more than 15 minutes remain, then no longer', async (t) => {
  const key = cacheKey(parts);
  await writeCacheEntry(dir, key, creds(60));
  t.equal((await stat(join(dir, `${key}.json`))).mode & 0o777, 0o600);
  t.same(readCacheEntry(dir, key, NOW, uid), { credentials: creds(60) });
  await writeCacheEntry(dir, key, creds(15));
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry expires at 2030-01-01T00:15:00Z, within 15 minutes' });
  await writeCacheEntry(dir, key, creds(15.1));
  t.ok(readCacheEntry(dir, key, NOW, uid).credentials, 'just over 15 minutes is still served');
  t.same(await readdir(dir), [`${key}.json`], 'no temporary files left');
});

t.test('corrupt, foreign and unsafe entries are ignored, never trusted', async (t) => {
  const key = cacheKey(parts);
  const path = join(dir, `${key}.json`);
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'no entry' });

  await writeFile(path, '{"version":1,"key":', { mode: 0o600 });
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry is corrupt' });

  await writeFile(path, JSON.stringify({ version: 1, key, accessKeyId: 'A', secretAccessKey: '', sessionToken: 'T', expiration: '2031-01-01T00:00:00Z' }), { mode: 0o600 });
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry is corrupt' }, 'an empty field');

  await writeCacheEntry(dir, cacheKey({ ...parts, region: 'eu-west-1' }), creds(60));
  await rm(path);
  await writeFile(path, await readFile(join(dir, `${cacheKey({ ...parts, region: 'eu-west-1' })}.json`)), { mode: 0o600 });
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry is for another key' }, 'a copied entry');

  await writeCacheEntry(dir, key, creds(60));
  await chmod(path, 0o644);
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry mode 644 is not private' });

  await rm(path);
  const elsewhere = join(dir, 'elsewhere.json');
  await writeCacheEntry(dir, 'elsewhere', creds(60));
  await symlink(elsewhere, path);
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry not readable (ELOOP)' }, 'a symlink is not followed');

  await rm(path);
  await mkdir(path);
  t.same(readCacheEntry(dir, key, NOW, uid), { reason: 'entry is not a regular file' });
  await rm(path, { recursive: true });

  await writeCacheEntry(dir, key, creds(60));
  t.same(readCacheEntry(dir, key, NOW, (uid ?? 0) + 1), { reason: `entry belongs to uid ${uid ?? 0}` }, 'owned by someone else');
});

t.test('a corrupt entry is replaced by the next write', async (t) => {
  const key = cacheKey(parts);
  await writeFile(join(dir, `${key}.json`), 'garbage', { mode: 0o644 });
  await writeCacheEntry(dir, key, creds(60));
  t.same(readCacheEntry(dir, key, NOW, uid), { credentials: creds(60) });
});

t.test('the cache directory is created 0700, tightened if too open, skipped if not ours', async (t) => {
  const lines: string[] = [];
  const fresh = join(dir, 'runtime', 'roles-anywhere-signer');
  t.equal(openCacheDirectory(fresh, uid, (line) => lines.push(line)), fresh);
  t.equal((await stat(fresh)).mode & 0o777, 0o700);
  await chmod(fresh, 0o755);
  t.equal(openCacheDirectory(fresh, uid, (line) => lines.push(line)), fresh);
  t.equal((await stat(fresh)).mode & 0o777, 0o700, 'tightened');
  t.equal(openCacheDirectory(fresh, (uid ?? 0) + 1, (line) => lines.push(line)), undefined);
  t.same(lines, [`cache: ${fresh} belongs to uid ${uid ?? 0}, not ${(uid ?? 0) + 1}; cache skipped`]);
  const file = join(dir, 'a-file');
  await writeFile(file, '');
  lines.length = 0;
  t.equal(openCacheDirectory(file, uid, (line) => lines.push(line)), undefined, 'a file where the directory should be');
  t.same(lines, [`cache: cannot use ${file} (EEXIST); cache skipped`]);
});

t.test('an entry that cannot be written is CACHE_FAILED, with the directory and the reason', async (t) => {
  const gone = join(dir, 'gone');
  await t.rejects(writeCacheEntry(gone, cacheKey(parts), creds(60)), {
    code: 'CACHE_FAILED',
    message: `cannot write the credential cache entry in ${gone} (ENOENT)`,
  });
});

t.test('the directory: XDG_RUNTIME_DIR, else XDG_CACHE_HOME, else ~/.cache', async (t) => {
  t.equal(defaultCacheDirectory({ XDG_RUNTIME_DIR: '/run/user/1000', XDG_CACHE_HOME: '/c' }, '/home/u'), '/run/user/1000/roles-anywhere-signer');
  t.equal(defaultCacheDirectory({ XDG_CACHE_HOME: '/c' }, '/home/u'), '/c/roles-anywhere-signer');
  t.equal(defaultCacheDirectory({ XDG_RUNTIME_DIR: 'relative' }, '/home/u'), '/home/u/.cache/roles-anywhere-signer', 'relative paths are ignored');
  t.equal(defaultCacheDirectory({}, '/home/u'), '/home/u/.cache/roles-anywhere-signer');
});

t.test('the certificate is identified without opening the key', async (t) => {
  t.equal(await certificateIdentity({ privateKey: 'handle:0x81000001' }), undefined, 'a TPM handle alone: nothing to key by');
  t.equal(
    await certificateIdentity({ certificate: 'pkcs11:token=T;object=c?pin-value=1234&module-path=/x.so' }),
    'pkcs11:pkcs11:token=T;object=c?module-path=/x.so|',
    'pkcs11 URI without its PIN',
  );
  t.equal(
    await certificateIdentity({ certificate: 'pkcs11:object=c;token=T?module-path=/x.so&pin-source=file:/run/pin', pkcs11Lib: '/lib.so' }),
    'pkcs11:pkcs11:token=T;object=c?module-path=/x.so|/lib.so',
    'the same certificate however its URI is written, with the module',
  );
  t.equal(await certificateIdentity({ certificate: 'pkcs11:object=c;pin-value=1234' }), undefined, 'a URI that does not parse: the normal path reports it');
  t.equal(await certificateIdentity({ certificate: join(dir, 'missing.pem'), privateKey: join(dir, 'missing.key') }), undefined, 'unreadable: the normal path reports it');
});

t.test('with the emulator', async (t) => {
  let rig: Rig;
  let keyFlags: string[];
  let certificatePath: string;
  t.before(async () => {
    rig = await startRig();
    const id = await rig.issueFileIdentity('cache-client');
    certificatePath = id.certificatePath;
    keyFlags = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];
  });
  t.teardown(() => rig.close());

  t.test('a certificate file is identified by its SHA-256 fingerprint', async (t) => {
    const der = new X509Certificate(await readFile(certificatePath)).raw;
    t.equal(await certificateIdentity({ certificate: certificatePath, privateKey: join(dir, 'any.key') }), `sha256:${createHash('sha256').update(der).digest('hex')}`);
  });

  t.test('a TSS2 key file by the certificate inside it; a PKCS#12 file by its digest', async (t) => {
    const pem = await readFile(certificatePath, 'utf8');
    const keyFile = join(dir, 'tpm.key.pem');
    await writeFile(keyFile, `-----BEGIN TSS2 PRIVATE KEY-----\nMAA=\n-----END TSS2 PRIVATE KEY-----\n${pem}`);
    t.equal(await certificateIdentity({ privateKey: keyFile }), await certificateIdentity({ certificate: certificatePath, privateKey: join(dir, 'any.key') }), 'the same fingerprint as the certificate file');
    await writeFile(keyFile, '-----BEGIN TSS2 PRIVATE KEY-----\nMAA=\n-----END TSS2 PRIVATE KEY-----\n');
    t.equal(await certificateIdentity({ privateKey: keyFile }), undefined, 'no certificate inside: nothing to key by');

    const pkcs12 = join(dir, 'client.p12');
    const bytes = Buffer.from('not parsed, only hashed');
    await writeFile(pkcs12, bytes);
    t.equal(await certificateIdentity({ certificate: pkcs12 }), `pkcs12-sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  });

  t.test('credential-process --cache: the second run is served from the cache, identical, without CreateSession', async (t) => {
    const runtime = await mkdtemp(join(tmpdir(), 'ras-runtime-'));
    t.teardown(() => rm(runtime, { recursive: true, force: true }));
    const env = isolatedEnv({ XDG_RUNTIME_DIR: runtime });
    const before = rig.stats.createSession;
    const cold = await runCli(['credential-process', '--cache', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(cold.code, 0, cold.stderr);
    t.equal(rig.stats.createSession, before + 1);
    const warm = await runCli(['credential-process', '--cache', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(warm.code, 0, warm.stderr);
    t.equal(warm.stdout, cold.stdout, 'byte-identical output');
    t.equal(rig.stats.createSession, before + 1, 'no CreateSession for the warm run');
    const files = await readdir(join(runtime, 'roles-anywhere-signer'));
    t.equal(files.length, 1);
    t.equal((await stat(join(runtime, 'roles-anywhere-signer'))).mode & 0o777, 0o700);

    const other = await runCli(['credential-process', '--cache', '--session-duration', '900', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(other.code, 0, other.stderr);
    t.equal(rig.stats.createSession, before + 2, 'another duration is another entry');

    const uncached = await runCli(['credential-process', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(uncached.code, 0);
    t.equal(rig.stats.createSession, before + 3, 'without --cache nothing is reused');

    await writeFile(join(runtime, 'roles-anywhere-signer', files[0] ?? ''), 'not json', { mode: 0o600 });
    const afterCorruption = await runCli(['credential-process', '--cache', '--debug', ...keyFlags, ...rig.sessionFlags], { env });
    t.equal(afterCorruption.code, 0);
    t.equal(rig.stats.createSession, before + 4, 'a corrupt entry is not trusted');
    t.match(afterCorruption.stderr, /debug: cache: miss \(entry is corrupt\)\n/);
    t.match(afterCorruption.stderr, /debug: cache: stored\n/);
    const secret = /"SecretAccessKey":"([^"]+)"/.exec(afterCorruption.stdout)?.[1] ?? 'missing';
    t.notOk(afterCorruption.stderr.includes(secret), 'no secret in the debug output');
  });

  t.test('the aws CLI with credential_process --cache: many calls, one CreateSession', async (t) => {
    const runtime = await mkdtemp(join(tmpdir(), 'ras-runtime-'));
    t.teardown(() => rm(runtime, { recursive: true, force: true }));
    const config = join(runtime, 'config');
    const command = [process.execPath, cliPath, 'credential-process', '--cache', ...keyFlags, ...rig.sessionFlags].map((part) => `"${part}"`).join(' ');
    await writeFile(config, `[profile cached]\nregion = us-east-1\ncredential_process = ${command}\n`);
    const env = isolatedEnv({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(runtime, 'none'), XDG_RUNTIME_DIR: runtime });
    const before = rig.stats.createSession;
    for (let call = 0; call < 3; call++) {
      const result = await run('aws', ['sts', 'get-caller-identity', '--profile', 'cached', '--endpoint-url', rig.url, '--output', 'json'], { env });
      t.equal(result.code, 0, result.stderr);
      t.equal((JSON.parse(result.stdout) as { Account: string }).Account, '123456789012');
    }
    t.equal(rig.stats.createSession, before + 1, 'three aws calls, one CreateSession');
  });

  t.test('a bad ARN is still reported with --cache, before the cache is consulted', async (t) => {
    const runtime = await mkdtemp(join(tmpdir(), 'ras-runtime-'));
    t.teardown(() => rm(runtime, { recursive: true, force: true }));
    const result = await runCli(['credential-process', '--cache', ...keyFlags, ...rig.sessionFlags.map((flag) => flag.replace(/^arn:aws:iam::/, 'arn:aws:iam:x:'))], { env: isolatedEnv({ XDG_RUNTIME_DIR: runtime }) });
    t.equal(result.code, 1);
    t.match(result.stderr, /^roles-anywhere-signer: --role-arn .+ is not a valid ARN \(IAM ARNs have an empty region\)/);
    t.same(await readdir(runtime), [], 'nothing created');
  });
});
