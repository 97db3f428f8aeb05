import t from 'tap';
import { SignerError } from '../../src/errors.js';
import { defaultSecretIO, readSecret, type SecretIO, type SecretSpec } from '../../src/keys/secret.js';

const LABEL = 'PIN for token "test"';

/** A SecretIO that records what was asked of it; any side effect not scripted fails the test. */
function scriptedIO(script: Partial<SecretIO> = {}): { io: SecretIO; calls: string[] } {
  const calls: string[] = [];
  const io: SecretIO = {
    env: script.env ?? {},
    promptTty: async (label) => {
      calls.push(`prompt ${label}`);
      if (script.promptTty === undefined) throw new Error('unexpected prompt');
      return script.promptTty(label);
    },
    readFile: (path) => {
      calls.push(`read ${path}`);
      if (script.readFile === undefined) throw new Error('unexpected file read');
      return script.readFile(path);
    },
    runCommand: async (command) => {
      calls.push(`run ${command}`);
      if (script.runCommand === undefined) throw new Error('unexpected command');
      return script.runCommand(command);
    },
  };
  return { io, calls };
}

const spec = (fields: Omit<SecretSpec, 'promptLabel'> = {}): SecretSpec => ({ promptLabel: LABEL, ...fields });
const text = (buffer: Buffer): string => buffer.toString('utf8');

/** The error and every message in its cause chain, as one text to search for secrets. */
async function failureOf(promise: Promise<unknown>): Promise<{ error: SignerError; chain: string }> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  if (!(error instanceof SignerError)) throw error;
  const parts: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) parts.push(cause.message);
  return { error, chain: parts.join('\n') };
}

t.test('a value is used as given, before any source, variable or prompt', async (t) => {
  const { io, calls } = scriptedIO({ env: { PIN: 'from-env' } });
  t.equal(text(await readSecret(spec({ value: 'pässwörd\n', source: '/never', envVar: 'PIN' }), io)), 'pässwörd\n', 'UTF-8, nothing stripped');
  t.same(calls, []);
});

t.test('source: file:, file://, plain path; the final newline is dropped', async (t) => {
  const files: Record<string, string> = {
    '/etc/secret pin': '1234\n',
    '/run/secrets/pinA': '5678\r\n',
    '/var/lib/pin': '9012',
    'relative/pin.txt': '3456\n',
  };
  const { io, calls } = scriptedIO({
    env: { PIN: 'from-env' },
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`no file ${path}`);
      return Buffer.from(content);
    },
  });
  t.equal(text(await readSecret(spec({ source: 'file:/etc/secret%20pin', envVar: 'PIN' }), io)), '1234', 'file:/path, percent-decoded');
  t.equal(text(await readSecret(spec({ source: 'file:///run/secrets/pin%41' }), io)), '5678', 'file:///path, CRLF dropped');
  t.equal(text(await readSecret(spec({ source: '/var/lib/pin' }), io)), '9012', 'a plain path, no newline to drop');
  t.equal(text(await readSecret(spec({ source: 'relative/pin.txt' }), io)), '3456', 'a relative path is read as given');
  t.same(calls, ['read /etc/secret pin', 'read /run/secrets/pinA', 'read /var/lib/pin', 'read relative/pin.txt'], 'the source wins over the variable');
});

t.test('only one final line break is part of the file format', async (t) => {
  const read = async (content: string): Promise<string> => {
    const { io } = scriptedIO({ readFile: () => Buffer.from(content) });
    return text(await readSecret(spec({ source: '/pin' }), io));
  };
  t.equal(await read('a b \n\n'), 'a b \n', 'one newline dropped, the rest kept');
  t.equal(await read('pin\r'), 'pin', 'a lone CR');
  t.equal(await read(' pin '), ' pin ', 'spaces are part of the secret');
  t.equal(await read('\n'), '', 'a file holding only a newline is the empty secret');
});

t.test('the buffer the secret was read into is zeroed when the newline is cut off', async (t) => {
  const handedOut: Buffer[] = [];
  const { io } = scriptedIO({
    readFile: () => {
      const buffer = Buffer.from('0000-secret\n');
      handedOut.push(buffer);
      return buffer;
    },
  });
  const secret = await readSecret(spec({ source: '/pin' }), io);
  t.equal(text(secret), '0000-secret');
  t.ok(handedOut[0]?.every((byte) => byte === 0), 'the original buffer is all zeros (the secret above is a copy)');

  const { io: plain } = scriptedIO({
    readFile: () => {
      const buffer = Buffer.from('no-newline');
      handedOut.push(buffer);
      return buffer;
    },
  });
  t.equal(await readSecret(spec({ source: '/pin' }), plain), handedOut[1], 'without a newline the buffer itself is handed over, for the caller to zero');
});

t.test('source: |command, its output is the secret', async (t) => {
  const { io, calls } = scriptedIO({ runCommand: async () => Buffer.from('s3cret\n') });
  t.equal(text(await readSecret(spec({ source: '|  pass show token-pin  ' }), io)), 's3cret');
  t.same(calls, ['run pass show token-pin'], 'the command is trimmed and run once');
});

t.test('|command with a real shell', async (t) => {
  t.equal(text(await readSecret(spec({ source: "|printf 'from the shell\\n'" }), defaultSecretIO)), 'from the shell');
  const { error, chain } = await failureOf(readSecret(spec({ source: '|echo leaked-0000 >&2; echo partial-0000; exit 3' }), defaultSecretIO));
  t.equal(error.code, 'SECRET_SOURCE_INVALID');
  t.equal(error.message, 'the PIN/password command failed (exit or error): check the command given after "|"');
  t.equal((error.cause as Error).message, 'command failed (3)', 'only the exit status reaches the cause chain');
  t.notMatch(chain, /leaked|partial|0000/, 'neither its stderr nor its stdout is echoed');
});

t.test('a failing command: only its status is kept, never its output', async (t) => {
  const failures: ReadonlyArray<readonly [string, unknown, string]> = [
    ['exit status', Object.assign(new Error('Command failed: /bin/sh -c get-pin\nPIN 4321 rejected'), { code: 3, stderr: 'PIN 4321 rejected' }), 'command failed (3)'],
    ['killed by the timeout', Object.assign(new Error('Command failed: get-pin 4321'), { code: null, signal: 'SIGTERM', killed: true }), 'command failed (SIGTERM)'],
    ['could not start', Object.assign(new Error('spawn /bin/sh ENOENT 4321'), { code: 'ENOENT' }), 'command failed (ENOENT)'],
    ['rejected with nothing useful', 'PIN 4321', 'command failed'],
  ];
  for (const [what, thrown, cause] of failures) {
    const { io } = scriptedIO({ runCommand: () => Promise.reject(thrown) });
    const { error, chain } = await failureOf(readSecret(spec({ source: '|get-pin' }), io));
    t.equal(error.code, 'SECRET_SOURCE_INVALID', what);
    t.equal(error.message, 'the PIN/password command failed (exit or error): check the command given after "|"', what);
    t.equal((error.cause as Error).message, cause, what);
    t.notMatch(chain, /4321/, `${what}: no output in the message or its causes`);
  }
});

t.test('a named source that fails is an error, not a fall-through to the variable or a prompt', async (t) => {
  const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/nope'"), { code: 'ENOENT' });
  const { io, calls } = scriptedIO({ env: { PIN: 'from-env' }, readFile: () => { throw missing; }, promptTty: async () => Buffer.from('typed') });
  const unreadable = await failureOf(readSecret(spec({ source: 'file:/nope', envVar: 'PIN' }), io));
  t.equal(unreadable.error.code, 'SECRET_SOURCE_INVALID');
  t.equal(unreadable.error.message, 'cannot read the PIN/password file /nope (ENOENT): check the path and its permissions');

  const empty = await failureOf(readSecret(spec({ source: '|   ', envVar: 'PIN' }), io));
  t.equal(empty.error.code, 'SECRET_SOURCE_INVALID');
  t.equal(empty.error.message, 'PIN/password source "|" names no command: write |command');

  for (const source of ['file://remote-host/pin', 'file:%zz']) {
    const badUrl = await failureOf(readSecret(spec({ source, envVar: 'PIN' }), io));
    t.equal(badUrl.error.code, 'SECRET_SOURCE_INVALID', source);
    t.equal(badUrl.error.message, `the PIN/password source ${source} is not a valid file URL: write file:///absolute/path or a plain path`, source);
  }
  t.same(calls, ['read /nope'], 'nothing else was tried');
});

t.test('the environment variable, when set and not empty', async (t) => {
  const { io, calls } = scriptedIO({ env: { ROLES_ANYWHERE_PIN: '2468', EMPTY: '' }, promptTty: async () => Buffer.from('typed') });
  t.equal(text(await readSecret(spec({ envVar: 'ROLES_ANYWHERE_PIN' }), io)), '2468');
  t.same(calls, []);
  t.equal(text(await readSecret(spec({ envVar: 'EMPTY' }), io)), 'typed', 'an empty variable counts as unset');
  t.equal(text(await readSecret(spec({ envVar: 'UNSET' }), io)), 'typed');
  t.same(calls, [`prompt ${LABEL}`, `prompt ${LABEL}`]);
});

t.test('the terminal prompt comes last, with the label', async (t) => {
  const typed = Buffer.from('typed at the terminal');
  const { io, calls } = scriptedIO({ promptTty: async () => typed });
  t.equal(await readSecret(spec(), io), typed, 'what was typed, as typed');
  t.same(calls, [`prompt ${LABEL}`]);
});

t.test('no terminal: an error that says what to do, never a hang', async (t) => {
  const { io } = scriptedIO({ promptTty: async () => undefined });
  const withVariable = await failureOf(readSecret(spec({ envVar: 'ROLES_ANYWHERE_PIN' }), io));
  t.equal(withVariable.error.code, 'SECRET_UNAVAILABLE');
  t.equal(withVariable.error.message, `${LABEL} is needed but there is no terminal to ask on: set ROLES_ANYWHERE_PIN or run from a terminal`);

  const bare = await failureOf(readSecret(spec(), io));
  t.equal(bare.error.message, `${LABEL} is needed but there is no terminal to ask on: run from a terminal`);

  const custom = await failureOf(readSecret(spec({ envVar: 'X', missingCode: 'PKCS11_PIN_REQUIRED', missingHint: 'add pin-source to the URI' }), io));
  t.equal(custom.error.code, 'PKCS11_PIN_REQUIRED');
  t.equal(custom.error.message, `${LABEL} is needed but there is no terminal to ask on: add pin-source to the URI`);
});
