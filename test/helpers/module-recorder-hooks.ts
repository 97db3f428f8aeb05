/** The loader-thread half of module-recorder.ts: appends each resolved module URL to the record file. */
import { appendFileSync } from 'node:fs';

let recordFile: string | undefined;

export function initialize(data: { recordFile: string }): void {
  recordFile = data.recordFile;
}

type NextResolve = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<{ url: string }> {
  const resolved = await nextResolve(specifier, context);
  if (recordFile !== undefined && !resolved.url.startsWith('node:')) appendFileSync(recordFile, `${resolved.url}\n`);
  return resolved;
}
