import type { Command } from 'commander';
import { packageVersion } from '../version.js';
import { writeStdout } from './io.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('Print the version')
    .action(async () => {
      await writeStdout(`${packageVersion()}\n`);
    });
}
