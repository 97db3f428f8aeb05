import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignerError, type SignerErrorCode } from '../errors.js';
import { describeReadFailure, readUserFile } from '../files/read-user-file.js';

/**
 * Where a PIN or password may come from, in the order they are tried.
 * The value itself never reaches a message: callers only learn *which* source failed.
 */
export interface SecretSpec {
  /** Given directly (a flag, or pin-value in a pkcs11: URI). */
  readonly value?: string;
  /** `file:/path`, `file:///path`, a plain path, or `|command` whose stdout is the secret. */
  readonly source?: string;
  /** Name of an environment variable that holds the secret. */
  readonly envVar?: string;
  /** Shown on the terminal, e.g. `PIN for token "YubiKey PIV #1234"`. Never holds a secret. */
  readonly promptLabel: string;
  /** Error code used when nothing gives a secret (e.g. PKCS11_PIN_REQUIRED). */
  readonly missingCode?: SignerErrorCode;
  /** What the user can do when no source works, appended to the error message. */
  readonly missingHint?: string;
}

/** Side effects of reading a secret, passed in so tests can drive every branch. */
export interface SecretIO {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the secret from the controlling terminal; undefined means there is no terminal. */
  readonly promptTty: (label: string) => Promise<Buffer | undefined>;
  readonly readFile: (path: string) => Buffer;
  readonly runCommand: (command: string) => Promise<Buffer>;
}

/**
 * Resolves a secret into a Buffer the caller must zero (`buf.fill(0)`) when done.
 * Order: value, source, environment, terminal prompt. A source that is named but fails is an
 * error of its own; it does not fall through to the next, so a typo never turns into a prompt.
 */
export async function readSecret(spec: SecretSpec, io: SecretIO = defaultSecretIO): Promise<Buffer> {
  if (spec.value !== undefined) return Buffer.from(spec.value, 'utf8');
  if (spec.source !== undefined) return stripFinalNewline(await readFromSource(spec.source, io));
  if (spec.envVar !== undefined) {
    const fromEnv = io.env[spec.envVar];
    if (fromEnv !== undefined && fromEnv !== '') return Buffer.from(fromEnv, 'utf8');
  }
  const typed = await io.promptTty(spec.promptLabel);
  if (typed !== undefined) return typed;
  const hint = spec.missingHint ?? (spec.envVar ? `set ${spec.envVar} or run from a terminal` : 'run from a terminal');
  throw new SignerError(
    spec.missingCode ?? 'SECRET_UNAVAILABLE',
    `${spec.promptLabel} is needed but there is no terminal to ask on: ${hint}`,
  );
}

async function readFromSource(source: string, io: SecretIO): Promise<Buffer> {
  if (source.startsWith('|')) {
    const command = source.slice(1).trim();
    if (command === '') throw new SignerError('SECRET_SOURCE_INVALID', 'PIN/password source "|" names no command: write |command');
    try {
      return await io.runCommand(command);
    } catch (cause) {
      throw new SignerError('SECRET_SOURCE_INVALID', `the PIN/password command failed (exit or error): check the command given after "|"`, { cause: sanitizedCause(cause) });
    }
  }
  const path = filePathOf(source);
  try {
    return io.readFile(path);
  } catch (cause) {
    throw new SignerError('SECRET_SOURCE_INVALID', `cannot read the PIN/password file ${path} (${describeReadFailure(cause)}): check the path and its permissions`);
  }
}

/** `file:///path` and `file:/path` (RFC 8089, percent-encoded) or a plain path. */
function filePathOf(source: string): string {
  try {
    if (source.startsWith('file://')) return fileURLToPath(source);
    if (source.startsWith('file:')) return decodeURIComponent(source.slice('file:'.length));
    return source;
  } catch (cause) {
    throw new SignerError('SECRET_SOURCE_INVALID', `the PIN/password source ${source} is not a valid file URL: write file:///absolute/path or a plain path`, { cause });
  }
}

/** Files and commands usually end with a newline that is not part of the secret. */
function stripFinalNewline(buf: Buffer): Buffer {
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  if (end === buf.length) return buf;
  const out = Buffer.from(buf.subarray(0, end));
  buf.fill(0);
  return out;
}

/**
 * A command's stderr could echo its input; keep only the exit code in the cause chain, or the
 * signal that stopped it (a timeout), or the spawn error code.
 */
function sanitizedCause(cause: unknown): Error {
  const { code, signal } = (cause ?? {}) as { code?: unknown; signal?: unknown };
  const status = code ?? signal;
  return new Error(`command failed${status === undefined || status === null ? '' : ` (${String(status)})`}`);
}

// node:child_process and node:tty load only when a secret is asked for that way: every other
// start-up (a key file without a password, the cache) would pay for them for nothing.
async function runCommand(command: string): Promise<Buffer> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { encoding: 'buffer', timeout: 60_000, maxBuffer: 64 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}

/**
 * Asks on /dev/tty with echo off. stdin/stdout are pipes under credential_process, so the
 * terminal is opened directly; without one (cron, CI, systemd) this returns undefined at once
 * instead of hanging.
 */
export async function promptOnTty(label: string): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  const { ReadStream, WriteStream } = await import('node:tty');
  const input = new ReadStream(fd);
  const output = new WriteStream(fd);
  input.setRawMode(true);
  output.write(`${label}: `);
  const chunks: number[] = [];
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      input.on('data', (data: Buffer) => {
        for (const byte of data) {
          if (byte === 0x0d || byte === 0x0a) {
            const secret = Buffer.from(chunks);
            chunks.fill(0);
            resolve(secret);
            return;
          }
          if (byte === 0x03) {
            // Ctrl-C: the terminal is in raw mode, so it arrives as a byte, not as SIGINT.
            chunks.fill(0);
            reject(new SignerError('INTERRUPTED', `${label}: interrupted (Ctrl-C) at the terminal`));
            return;
          }
          if (byte === 0x04) {
            chunks.fill(0);
            reject(new SignerError('SECRET_UNAVAILABLE', `${label}: cancelled at the terminal`));
            return;
          }
          if (byte === 0x7f || byte === 0x08) {
            if (chunks.length > 0) chunks[chunks.length - 1] = 0;
            chunks.pop();
            continue;
          }
          chunks.push(byte);
        }
      });
      input.on('error', reject);
    });
  } finally {
    input.setRawMode(false);
    output.write('\n');
    input.destroy();
    output.destroy();
    try {
      closeSync(fd);
    } catch {
      // the streams closed it already
    }
  }
}

const MAX_SECRET_FILE_BYTES = 64 * 1024;

export const defaultSecretIO: SecretIO = {
  env: process.env,
  promptTty: promptOnTty,
  // A PIN or password is short; a bigger file is the wrong file.
  readFile: (path) => readUserFile(path, MAX_SECRET_FILE_BYTES),
  runCommand,
};
