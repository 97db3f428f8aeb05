import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MachineInfo } from './machine.js';

/** One measured figure: a line of the table, and its numbers for the JSON file. */
export interface Figure {
  readonly id: string;
  readonly label: string;
  /** Human-readable, e.g. "median 312 ms, p90 330 ms (n=20)". */
  readonly result: string;
  readonly note?: string;
  readonly data: Readonly<Record<string, number | string | boolean | readonly number[]>>;
}

export type SectionId = 'cold' | 'sign' | 'mldsa' | 'pkcs11' | 'tpm' | 'serve' | 'cache' | 'sea' | 'reference';

export interface SectionReport {
  readonly id: SectionId;
  readonly title: string;
  readonly status: 'ran' | 'skipped';
  /** Why it was skipped (a missing tool, a part that does not work yet, the time budget). */
  readonly reason?: string;
  readonly notes: readonly string[];
  readonly figures: readonly Figure[];
  readonly elapsedS: number;
}

export interface BenchReport {
  readonly schema: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly machine: MachineInfo;
  readonly loadAverageAtEnd: readonly number[];
  /** How whole-process wall times were taken (hyperfine or the own spawn loop). */
  readonly wallTool: string;
  readonly sections: readonly SectionReport[];
}

/** The console table: one row per figure, skipped sections as one row saying why. */
export function renderTable(sections: readonly SectionReport[]): string {
  const rows: [string, string, string, string][] = [['section', 'measurement', 'result', 'notes']];
  for (const section of sections) {
    if (section.status === 'skipped') {
      rows.push([section.id, section.title, `skipped: ${section.reason ?? 'no reason given'}`, '']);
      continue;
    }
    for (const figure of section.figures) rows.push([section.id, figure.label, figure.result, figure.note ?? '']);
  }
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column as 0 | 1 | 2].length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] ?? 0) : cell)).join('  ').trimEnd();
  const rule = [...widths, 'notes'.length].map((width) => '-'.repeat(width)).join('  ');
  const [header, ...body] = rows;
  return [line(header ?? []), rule, ...body.map(line)].join('\n');
}

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Run of ${m.date} on ${m.cpuModel}, ${m.cores} cores (${m.availableParallelism} usable), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}` +
      `${m.gitCommit !== undefined ? `, commit ${m.gitCommit}${m.gitDirty === true ? ' with uncommitted changes' : ''}` : ''}; ` +
      `whole bench ${Math.round(report.durationS)} s; process wall times by ${report.wallTool}; ` +
      `load average ${m.loadAverageAtStart[0] ?? '?'} at start, ${report.loadAverageAtEnd[0] ?? '?'} at end.`,
    '',
    '| section | measurement | result | notes |',
    '| --- | --- | --- | --- |',
  ];
  for (const section of report.sections) {
    if (section.status === 'skipped') {
      lines.push(`| ${section.id} | ${escapeCell(section.title)} | **skipped**: ${escapeCell(section.reason ?? '')} | |`);
      continue;
    }
    for (const figure of section.figures) {
      lines.push(`| ${section.id} | ${escapeCell(figure.label)} | ${escapeCell(figure.result)} | ${escapeCell(figure.note ?? '')} |`);
    }
  }
  const notes = report.sections.flatMap((section) => section.notes.map((note) => `- ${section.id}: ${note}`));
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** bench-results/bench-<UTC stamp>.json and .md; returns both paths. */
export async function writeReport(report: BenchReport, directory: string): Promise<{ json: string; markdown: string }> {
  await mkdir(directory, { recursive: true });
  const stamp = report.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const json = join(directory, `bench-${stamp}.json`);
  const markdown = join(directory, `bench-${stamp}.md`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(report));
  return { json, markdown };
}
