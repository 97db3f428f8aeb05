import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/**
 * Reads a file the user named (certificate, key, intermediates, PIN or password file, token
 * file, config) without ever blocking on it: opened O_NONBLOCK so a FIFO with no writer does
 * not hang the open, refused unless it is a regular file (a FIFO, /dev/zero, /dev/stdin or a
 * socket would block or never end), and read to at most `maxBytes` (a regular file may still
 * grow while read, and /proc files report size 0). Failures are thrown as errors with an
 * errno-style `code` (ENOENT, EACCES, EISDIR, ENOTREGULAR, EFBIG) so each caller wraps them in
 * its own SignerError; `describeReadFailure` words them.
 */
export const DEFAULT_MAX_USER_FILE_BYTES = 1024 * 1024;

export class UserFileReadError extends Error {
  override readonly name = 'UserFileReadError';
  readonly code: 'ENOTREGULAR' | 'EFBIG';
  readonly path: string;

  constructor(code: 'ENOTREGULAR' | 'EFBIG', path: string, message: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

export function readUserFile(path: string, maxBytes: number = DEFAULT_MAX_USER_FILE_BYTES): Buffer {
  const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR', path });
    if (!info.isFile()) throw new UserFileReadError('ENOTREGULAR', path, `${path} is ${fileKind(info)}, not a regular file`);
    if (info.size > maxBytes) throw tooLarge(path, maxBytes);
    return readAtMost(fd, path, maxBytes);
  } finally {
    closeSync(fd);
  }
}

/** Key files pass through here: every intermediate chunk is zeroed once copied. */
function readAtMost(fd: number, path: string, maxBytes: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
    }
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

function tooLarge(path: string, maxBytes: number): UserFileReadError {
  return new UserFileReadError('EFBIG', path, `${path} is larger than ${formatBytes(maxBytes)}`);
}

function fileKind(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/**
 * The words for why a file could not be read, for `cannot read <what> (<words>): ...`:
 * "a FIFO (named pipe), not a regular file", "larger than 1 MiB", or the errno code.
 */
export function describeReadFailure(cause: unknown): string {
  if (cause instanceof UserFileReadError) return cause.message.slice(cause.path.length + 1).replace(/^is /, '');
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}
