/**
 * --debug output: one line per step, to stderr. Callers pass only secret-free text; anything
 * that could hold a secret (response bodies, headers with tokens) is summarised, never dumped.
 */
import { toTerminalText } from './terminal-text.js';
import { writeStderrQuietly } from './std-output.js';

export type DebugLog = (line: string) => void;

export const silent: DebugLog = () => {};

export function stderrDebug(prefix = 'debug'): DebugLog {
  return (line) => {
    writeStderrQuietly(`${prefix}: ${toTerminalText(line, 4000)}\n`);
  };
}
