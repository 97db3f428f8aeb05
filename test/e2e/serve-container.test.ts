import t, { type Test } from 'tap';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRig, ACCOUNT, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run } from '../helpers/cli.js';
import { startCli, type LongRunning } from '../serve/process.js';
import { startCredentialService } from '../../src/serve/serve.js';
import { loadNativeAddon } from '../../src/native.js';

let rig: Rig;
let keyFlags: string[];
t.before(async () => {
  rig = await startRig();
  const id = await rig.issueFileIdentity('container-client');
  keyFlags = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];
});
t.teardown(() => rig.close());

/** Starts `serve --container`; returns the exported variables (two export lines or a comment). */
async function serveContainer(t: Test, extra: readonly string[], env: Record<string, string> = {}): Promise<{ process: LongRunning; exports: Record<string, string>; lines: string[] }> {
  const process = startCli(['serve', '--container', '--port', '0', ...keyFlags, ...rig.sessionFlags, ...extra], isolatedEnv(env));
  t.teardown(() => process.stop('SIGKILL'));
  const lines = await process.lines(2);
  const exports: Record<string, string> = {};
  for (const line of lines) {
    const match = /^export (AWS_[A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) exports[match[1]] = match[2];
  }
  if (exports['AWS_CONTAINER_CREDENTIALS_FULL_URI'] === undefined) throw new Error(`no FULL_URI export: ${process.stdout()} ${process.stderr()}`);
  return { process, exports, lines };
}

function awsWith(env: Record<string, string>) {
  return run('aws', ['sts', 'get-caller-identity', '--endpoint-url', rig.url, '--output', 'json'], {
    env: isolatedEnv({
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(rig.dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(rig.dir, 'no-credentials'),
      AWS_METADATA_SERVICE_TIMEOUT: '5',
      ...env,
    }),
  });
}

t.test('the aws CLI uses the container endpoint with a token file that serve created', async (t) => {
  const tokenFile = join(rig.dir, 'container-token');
  const before = rig.stats.createSession;
  const { exports, process } = await serveContainer(t, ['--container-token-file', tokenFile]);
  t.match(exports['AWS_CONTAINER_CREDENTIALS_FULL_URI'], /^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials$/);
  t.equal(exports['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'], tokenFile);
  t.equal((await stat(tokenFile)).mode & 0o777, 0o600, 'token file is private');
  const result = await awsWith(exports);
  t.equal(result.code, 0, result.stderr);
  t.equal((JSON.parse(result.stdout) as { Account: string }).Account, ACCOUNT);
  t.equal(rig.stats.createSession, before + 1);
  const token = await readFile(tokenFile, 'utf8');
  t.notOk(process.stderr().includes(token), 'the token is not on stderr');
});

t.test('a token from AWS_CONTAINER_AUTHORIZATION_TOKEN: the right one works, a wrong one is refused', async (t) => {
  const token = 'container-token-for-the-e2e-test';
  const { exports, lines, process } = await serveContainer(t, [], { AWS_CONTAINER_AUTHORIZATION_TOKEN: token });
  t.same(lines[1], '# the token is the AWS_CONTAINER_AUTHORIZATION_TOKEN this server was started with');
  const uri = exports['AWS_CONTAINER_CREDENTIALS_FULL_URI'] ?? '';
  const ok = await awsWith({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: token });
  t.equal(ok.code, 0, ok.stderr);

  const wrong = await awsWith({ AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'not-the-token', AWS_EC2_METADATA_DISABLED: 'true' });
  t.not(wrong.code, 0, 'the aws CLI gets no credentials with a wrong token');
  t.match(wrong.stderr, /Received non 200 response 401 from container metadata/);
  t.match(wrong.stderr, /the Authorization token does not match this endpoint's token/);

  const direct = await fetch(uri, { headers: { authorization: 'not-the-token' } });
  t.equal(direct.status, 401);
  t.same(await direct.json(), { code: 'Unauthorized', message: "the Authorization token does not match this endpoint's token" });
  const missing = await fetch(uri);
  t.equal(missing.status, 401);
  t.notOk(process.stderr().includes(token));
});

t.test('without a token source and without a terminal, serve refuses to print a generated token', async (t) => {
  const process = startCli(['serve', '--container', '--port', '0', ...keyFlags, ...rig.sessionFlags], isolatedEnv());
  t.equal(await process.exited(), 2);
  t.equal(process.stdout(), '');
  t.equal(process.stderr(), 'roles-anywhere-signer: --container needs a token source when stdout is not a terminal (a generated token would end up in logs): pass --container-token-file or set AWS_CONTAINER_AUTHORIZATION_TOKEN\n');
});

t.test('a generated token (the library path an interactive serve takes) works for the aws CLI', async (t) => {
  const id = await rig.issueFileIdentity('generated-token-client');
  const service = await startCredentialService(
    {
      identity: { certificate: id.certificatePath, privateKey: id.keyPath, intermediates: id.chainPath },
      session: { trustAnchorArn: rig.trustAnchorArn, profileArn: rig.profileArn, roleArn: rig.roleArn, endpoint: rig.url },
      mode: 'container',
      bind: '127.0.0.1',
      port: 0,
      hopLimit: 64,
      allowNonLoopback: false,
      containerToken: { kind: 'generate' },
    },
    { native: loadNativeAddon({}), log: () => {}, debug: () => {} },
  );
  t.teardown(() => service.close());
  const exports: Record<string, string> = {};
  for (const line of service.exports) {
    const match = /^export (AWS_[A-Z_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) exports[match[1]] = match[2];
  }
  t.match(exports['AWS_CONTAINER_AUTHORIZATION_TOKEN'], /^[A-Za-z0-9_-]{43}$/);
  const result = await awsWith(exports);
  t.equal(result.code, 0, result.stderr);
  t.equal((JSON.parse(result.stdout) as { Account: string }).Account, ACCOUNT);
});

t.test('a token file with a trailing newline is refused at start, before any key is used', async (t) => {
  const tokenFile = join(rig.dir, 'bad-token');
  await writeFile(tokenFile, 'abc\n');
  const before = rig.stats.createSession;
  const process = startCli(['serve', '--container', '--port', '0', '--container-token-file', tokenFile, ...keyFlags, ...rig.sessionFlags], isolatedEnv());
  t.equal(await process.exited(), 1);
  t.match(process.stderr(), `roles-anywhere-signer: the container token file ${tokenFile} contains a line break, which SDKs refuse to send in a header: write the token without a newline (printf, not echo)\n`);
  t.equal(rig.stats.createSession, before);
});

t.test('--container-token-file without --container is a usage error', async (t) => {
  const process = startCli(['serve', '--container-token-file', '/tmp/x', ...keyFlags, ...rig.sessionFlags], isolatedEnv());
  t.equal(await process.exited(), 2);
  t.equal(process.stderr(), 'roles-anywhere-signer: --container-token-file applies to the container endpoint: add --container\n');
});

t.test('a token file deleted or rewritten with a newline while serving revokes the token, and says so once', async (t) => {
  const tokenFile = join(rig.dir, 'revocable-token');
  const token = 'revocable-container-token';
  await writeFile(tokenFile, token);
  const { exports, process } = await serveContainer(t, ['--container-token-file', tokenFile]);
  const uri = exports['AWS_CONTAINER_CREDENTIALS_FULL_URI'] ?? '';
  const status = async (presented: string): Promise<number> => (await fetch(uri, { headers: { authorization: presented } })).status;
  t.equal(await status(token), 200);
  /** The file is re-read at most once a second: ask until the answer changes, boundedly. */
  const settle = async (presented: string, want: number): Promise<number> => {
    let got = await status(presented);
    for (let attempt = 0; attempt < 40 && got !== want; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      got = await status(presented);
    }
    return got;
  };
  await rm(tokenFile);
  t.equal(await settle(token, 401), 401, 'a deleted file revokes the old token');
  t.equal(await status(token), 401);
  const logged = () => process.stderr().split('\n').filter((line) => line.includes('every container request is refused'));
  t.equal(logged().length, 1, 'one warning, not one per request');
  t.match(logged()[0], `cannot read the container token file ${tokenFile} (ENOENT)`);
  await writeFile(tokenFile, `${token}\n`);
  t.equal(await settle(token, 401), 401, 'a trailing newline keeps it refused (SDKs could not send it)');
  await writeFile(tokenFile, 'the-next-token');
  t.equal(await settle('the-next-token', 200), 200, 'a usable file is served again');
  t.match(process.stderr(), /is usable again: requests with its token are served/);
  t.notOk(process.stderr().includes(token), 'no token on stderr');
});
