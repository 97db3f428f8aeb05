/**
 * src/std-output.ts, in real processes: what a write does depends on what the descriptor is
 * (a pipe, a non-blocking pipe that fills, a pipe nobody reads), so each case runs a small Node
 * program on such a descriptor. The non-blocking and the closed pipe are made by a Python
 * parent: Node has no pipe(2) of its own to hand a child.
 */
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRoot, cliPath } from './helpers/paths.js';
import { isolatedEnv, run } from './helpers/cli.js';
import { createOpensslPki } from './helpers/openssl-pki.js';

const STD_OUTPUT = pathToFileURL(join(buildRoot, 'src', 'std-output.js')).href;

/** A child that runs `body` with the module's functions in scope, then flushes and exits. */
async function childProgram(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, `${name}.mjs`);
  await writeFile(path, `import { flushStdStreams, stdStream, writeStd, writeStderrQuietly } from ${JSON.stringify(STD_OUTPUT)};\n${body}\nawait flushStdStreams();\nprocess.exit(0);\n`);
  return path;
}

/**
 * Runs `argv` with stdout on a pipe from Python: `nonblocking` sets O_NONBLOCK on it (as a
 * parent's event loop may) and reads it only after `delayMs`, so a big write fills it; `closed`
 * closes the reading end before the child starts. Prints JSON: exit code, stdout, stderr.
 */
const PIPE_PARENT = String.raw`
import json, os, subprocess, sys, time, fcntl
mode, delay, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
r, w = os.pipe()
if mode == 'nonblocking':
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
if mode == 'closed':
    os.close(r)
# Without the test runner's NODE_OPTIONS, whose hooks load net (the tests look for it) themselves.
env = {k: v for k, v in os.environ.items() if k != 'NODE_OPTIONS'}
p = subprocess.Popen(argv, stdout=w, stderr=subprocess.PIPE, env=env)
os.close(w)
out = b''
if mode != 'closed':
    time.sleep(delay)
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
err = p.stderr.read()
print(json.dumps({'code': p.wait(), 'stdout': out.decode(), 'stderr': err.decode()}))
`;

async function throughPipe(mode: 'nonblocking' | 'closed', delayMs: number, argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await run('python3', ['-c', PIPE_PARENT, mode, String(delayMs / 1000), ...argv], { timeoutMs: 60_000, ...(env === undefined ? {} : { env }) });
  if (result.code !== 0) throw new Error(`the pipe parent failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { code: number; stdout: string; stderr: string };
}

t.test('std-output', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ras-std-output-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  t.test('short output on pipes is written without making Node\'s stdout or stderr streams', async (t) => {
    const program = await childProgram(dir, 'short', [
      "writeStd('stdout', 'out line\\n');",
      "writeStderrQuietly('err line\\n');",
      // net is what a stream on a pipe is made of; nothing else in this program loads it.
      "writeStd('stdout', process.moduleLoadList.includes('NativeModule net') ? 'net loaded\\n' : 'no net\\n');",
    ].join('\n'));
    // Without the test runner's NODE_OPTIONS, whose hooks load net themselves (it puts them back
    // into any Node child it spawns, so a shell drops them).
    const result = await run('sh', ['-c', 'unset NODE_OPTIONS; exec "$@"', 'sh', process.execPath, program]);
    t.equal(result.code, 0);
    t.equal(result.stdout, 'out line\nno net\n');
    t.equal(result.stderr, 'err line\n');
  });

  t.test('once a stream carries a descriptor, later writes go through it, in order', async (t) => {
    const program = await childProgram(dir, 'ordered', [
      "const seen = [];",
      "const stream = stdStream('stdout');",
      "const write = stream.write.bind(stream);",
      "stream.write = (chunk, ...rest) => { seen.push(String(chunk)); return write(chunk, ...rest); };",
      "stream.write('first\\n');",
      "writeStd('stdout', 'second\\n');",
      "writeStd('stderr', JSON.stringify(seen) + '\\n');",
    ].join('\n'));
    const result = await run(process.execPath, [program]);
    t.equal(result.stdout, 'first\nsecond\n');
    t.equal(result.stderr, '["first\\n","second\\n"]\n', 'the second write went through the stream, after the first');
  });

  t.test('a non-blocking pipe that fills: the rest is queued on the stream and flushed before exit, nothing lost', async (t) => {
    // 1 MiB of numbered lines: far more than a pipe holds, so the blocking-free write meets EAGAIN.
    const program = await childProgram(dir, 'big', [
      "const lines = Array.from({ length: 65536 }, (_, i) => String(i).padStart(15, '0')).join('\\n') + '\\n';",
      "writeStd('stdout', lines);",
      "writeStd('stdout', 'after\\n');",
      "writeStd('stderr', process.moduleLoadList.includes('NativeModule net') ? 'fell back to the stream\\n' : 'no stream\\n');",
    ].join('\n'));
    const result = await throughPipe('nonblocking', 300, [process.execPath, program]);
    t.equal(result.code, 0);
    const lines = result.stdout.split('\n');
    t.equal(lines.length, 65536 + 2, 'every line arrived');
    t.equal(lines[0], '000000000000000');
    t.equal(lines[65535], '000000000065535');
    t.equal(lines[65536], 'after', 'the later write came after the queued rest');
    t.equal(result.stderr, 'fell back to the stream\n', 'the EAGAIN path was taken (else this test proves nothing)');
  });

  t.test('the CLI with nobody reading stdout: silent, exit 141 (as SIGPIPE); --debug says why', async (t) => {
    const env = isolatedEnv();
    const quiet = await throughPipe('closed', 0, [process.execPath, cliPath, 'version'], env);
    t.equal(quiet.code, 141);
    t.equal(quiet.stderr, '');
    const help = await throughPipe('closed', 0, [process.execPath, cliPath, 'credential-process', '--help'], env);
    t.equal(help.code, 141, 'help written by commander ends the same way');
    t.equal(help.stderr, '');
    const pki = await createOpensslPki(dir);
    const ca = await pki.createCa({ subject: '/CN=std-output test' });
    const debug = await throughPipe('closed', 0, [process.execPath, cliPath, 'read-certificate-data', '--certificate', ca.certificatePath, '--debug'], env);
    t.equal(debug.code, 1);
    t.match(debug.stderr, /^roles-anywhere-signer: stdout was closed before the output was written: the program reading it exited first\ndebug: error code OUTPUT_CLOSED\n/);
  });
});
