import { toTerminalText } from '../terminal-text.js';
import { stdStream, writeStderrQuietly } from '../std-output.js';

/**
 * Process-level pieces of the long-running commands (serve, update): the operator log and the
 * shutdown signal. They belong to the program, not to the library, so they live in cli/.
 */

/**
 * From here on, stdout and stderr go through Node's streams (std-output.ts writes short output
 * straight to the descriptor): a log reader that stalls must never stop a server.
 */
export function writeThroughStreams(): void {
  stdStream('stdout');
  stdStream('stderr');
}

/** One line for the operator on stderr, prefixed like every other message of the CLI. */
export function logToStderr(line: string): void {
  writeStderrQuietly(`roles-anywhere-signer: ${toTerminalText(line, 4000)}\n`);
}

/**
 * Resolves with the signal's name on the first SIGTERM or SIGINT. Until then it keeps the
 * process alive by itself: refresh timers are unref'd (so library users can exit), and
 * signal listeners alone do not hold the event loop open.
 */
export function untilShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const onSignal = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
