import t from 'tap';
import { readFile, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startRig, ACCOUNT, type Rig } from '../helpers/emulator-rig.js';
import { isolatedEnv, run, runCli } from '../helpers/cli.js';
import { startCli } from '../serve/process.js';

let rig: Rig;
let keyFlags: string[];
t.before(async () => {
  rig = await startRig();
  const id = await rig.issueFileIdentity('update-client');
  keyFlags = ['--certificate', id.certificatePath, '--private-key', id.keyPath, '--intermediates', id.chainPath];
});
t.teardown(() => rig.close());

const PROFILE_BLOCK = /\[(\S+)\]\naws_access_key_id = (ASIA[A-Z0-9]{16})\naws_secret_access_key = (\S+)\naws_session_token = (\S+)\n/g;

function awsWithProfile(credentialsFile: string, profile: string) {
  return run('aws', ['sts', 'get-caller-identity', '--profile', profile, '--endpoint-url', rig.url, '--output', 'json'], {
    env: isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: join(rig.dir, 'no-config'), AWS_DEFAULT_REGION: 'us-east-1' }),
  });
}

t.test('update --once writes the profile (dir 0700, file 0600) and the aws CLI uses it', async (t) => {
  const home = await mkdtemp(join(rig.dir, 'home-'));
  const file = join(home, '.aws', 'credentials');
  const result = await runCli(['update', '--once', '--profile', 'e2e', ...keyFlags, ...rig.sessionFlags], { env: isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file }) });
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stdout, '');
  t.equal(result.stderr, '');
  t.equal((await stat(join(home, '.aws'))).mode & 0o777, 0o700);
  t.equal((await stat(file)).mode & 0o777, 0o600);
  t.match(await readFile(file, 'utf8'), /^\[e2e\]\naws_access_key_id = ASIA[A-Z0-9]{16}\naws_secret_access_key = \S+\naws_session_token = \S+\n$/);
  const aws = await awsWithProfile(file, 'e2e');
  t.equal(aws.code, 0, aws.stderr);
  t.equal((JSON.parse(aws.stdout) as { Account: string }).Account, ACCOUNT);
});

t.test('update keeps every other byte of an existing file; --profile defaults to default', async (t) => {
  const file = join(rig.dir, 'existing-credentials');
  const others = '# managed by hand\r\n[prod]\r\naws_access_key_id = AKIAPROD\r\naws_secret_access_key = prodsecret\r\n\r\n';
  await writeFile(file, `${others}[default]\r\nregion = eu-west-1\r\naws_access_key_id = OLD\r\n`);
  const result = await runCli(['update', '--once', ...keyFlags, ...rig.sessionFlags], { env: isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file }) });
  t.equal(result.code, 0, result.stderr);
  const text = await readFile(file, 'utf8');
  t.ok(text.startsWith(`${others}[default]\r\nregion = eu-west-1\r\naws_access_key_id = ASIA`), 'the bytes before the changed value are identical');
  t.match(text, /\r\naws_secret_access_key = \S+\r\naws_session_token = \S+\r\n$/, 'new keys with the file\'s CRLF');
});

t.test('update run twice at once leaves a valid file with both profiles', async (t) => {
  for (let round = 0; round < 3; round++) {
    const file = join(rig.dir, `concurrent-${round}`);
    const env = isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file });
    const [a, b] = await Promise.all([
      runCli(['update', '--once', '--profile', 'first', ...keyFlags, ...rig.sessionFlags], { env }),
      runCli(['update', '--once', '--profile', 'second', ...keyFlags, ...rig.sessionFlags], { env }),
    ]);
    t.equal(a.code, 0, a.stderr);
    t.equal(b.code, 0, b.stderr);
    const text = await readFile(file, 'utf8');
    const profiles = [...text.matchAll(PROFILE_BLOCK)].map((match) => match[1]).sort();
    t.same(profiles, ['first', 'second'], `round ${round}: both profiles, complete`);
    t.equal(text.replace(PROFILE_BLOCK, '').replace(/\n/g, ''), '', 'nothing else in the file');
    const aws = await awsWithProfile(file, 'second');
    t.equal(aws.code, 0, aws.stderr);
  }
});

t.test('update without --once writes at start, keeps running, and stops on SIGTERM', async (t) => {
  const file = join(rig.dir, 'looping');
  const process = startCli(['update', '--profile', 'loop', ...keyFlags, ...rig.sessionFlags], isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file }));
  t.teardown(() => process.stop('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (!process.stderr().includes('fresh; stop with SIGTERM')) {
    if (Date.now() > deadline) throw new Error(`update did not start: ${process.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.match(await readFile(file, 'utf8'), /^\[loop\]\naws_access_key_id = ASIA/);
  t.equal(await process.stop('SIGTERM'), 0);
  t.match(process.stderr(), new RegExp(`roles-anywhere-signer: keeping profile loop in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} fresh; stop with SIGTERM or Ctrl-C\nroles-anywhere-signer: SIGTERM: shutting down\n$`));
  const secret = /aws_secret_access_key = (\S+)/.exec(await readFile(file, 'utf8'))?.[1] ?? 'missing';
  t.notOk(process.stderr().includes(secret), 'no secret on stderr');
});

t.test('a failed first CreateSession fails update at once and leaves the file alone', async (t) => {
  const file = join(rig.dir, 'untouched');
  await writeFile(file, '[default]\naws_access_key_id = KEEP\n');
  const result = await runCli(['update', '--once', ...keyFlags, ...rig.sessionFlags.map((flag) => flag.replace(/role\/e2e-role$/, 'role/not-allowed'))], { env: isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: file }) });
  t.equal(result.code, 1);
  t.match(result.stderr, /^roles-anywhere-signer: CreateSession denied \(403 AccessDeniedException\): .+\n$/);
  t.equal(await readFile(file, 'utf8'), '[default]\naws_access_key_id = KEEP\n');
});
