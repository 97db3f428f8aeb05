import { appendFileSync } from 'node:fs';

type NextResolve = (specifier: string, context: unknown) => Promise<{ url: string }>;

/** module.register resolve hook: passes everything through, noting each resolved URL. */
export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<{ url: string }> {
  const result = await nextResolve(specifier, context);
  const file = process.env['TRACE_IMPORTS_FILE'];
  if (file !== undefined) appendFileSync(file, `${result.url}\n`);
  return result;
}
