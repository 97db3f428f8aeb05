import { writeStdout } from './io.js';
import { writeStd } from '../std-output.js';

/**
 * How both kinds of enroll print their result: JSON alone with --json; else, without --out,
 * stdout carries only the request (so it can be piped to a CA) and the report goes to stderr;
 * with --out, the report on stdout.
 */
export async function printEnrollOutcome<T>(outcome: { json: boolean; out: string | undefined; csrPem: string; summary: T; format: (summary: T) => string }): Promise<void> {
  if (outcome.json) {
    await writeStdout(`${JSON.stringify(outcome.summary, null, 2)}\n`);
  } else if (outcome.out === undefined) {
    await writeStdout(outcome.csrPem);
    writeStd('stderr', outcome.format(outcome.summary));
  } else {
    await writeStdout(outcome.format(outcome.summary));
  }
}
