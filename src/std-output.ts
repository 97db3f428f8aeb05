import { writeSync } from 'node:fs';

/**
 * The CLI's writes to stdout and stderr. A one-shot command (credential-process above all, which
 * SDKs run with both streams on pipes) writes a line or two and exits; making `process.stdout`
 * and `process.stderr` for that costs a net.Socket per pipe and the stream machinery behind it,
 * about 3 ms of every call. So short output goes to the file descriptor directly with a blocking
 * write, and a stream is made only when something needs one: a long-running command's log (a
 * stalled reader must not block a server), `isTTY` or `columns`, or a pipe the parent made
 * non-blocking (EAGAIN; the stream then queues the rest).
 *
 * Once a stream exists for a descriptor, every later write to it goes through that stream, so
 * output keeps its order. flushStdStreams() waits for what the streams still hold, so the
 * process can exit without cutting a line off. Windows keeps Node's streams throughout: its
 * console wants WriteConsoleW, which only the tty stream does.
 */
type StdName = 'stdout' | 'stderr';

const DESCRIPTORS: Readonly<Record<StdName, number>> = { stdout: 1, stderr: 2 };
const streamsInUse = new Set<StdName>();

/** process.stdout or process.stderr itself; from then on every write to it goes through the stream. */
export function stdStream(name: StdName): NodeJS.WriteStream {
  streamsInUse.add(name);
  return process[name];
}

/**
 * Writes all of `data` before returning, unless a stream already carries this descriptor (then
 * it is queued there, in order). Throws what the write threw (EPIPE when the reader is gone).
 */
export function writeStd(name: StdName, data: string | Uint8Array): void {
  if (streamsInUse.has(name) || process.platform === 'win32') {
    stdStream(name).write(data);
    return;
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(DESCRIPTORS[name], bytes, offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    stdStream(name).write(bytes.subarray(offset));
  }
}

/** A line on stderr that must not fail its caller: an error report has nowhere else to go. */
export function writeStderrQuietly(text: string): void {
  try {
    writeStd('stderr', text);
  } catch {
    // stderr is closed: nothing can be told.
  }
}

/** Resolves once whatever went through the streams is handed to the OS (at once when none was made). */
export async function flushStdStreams(): Promise<void> {
  for (const name of streamsInUse) {
    await new Promise<void>((resolve) => {
      process[name].write('', () => resolve());
    });
  }
}
