import type { Command } from 'commander';
import { Option } from './commander.js';
import { addKeyOptions, identityOptionsFrom, type SigningFlags } from './options.js';
import { debugFor, writeStdout } from './io.js';

interface SignStringFlags extends SigningFlags {
  format: 'json' | 'text' | 'bin';
  digest: 'SHA256' | 'SHA384' | 'SHA512';
}

export function registerSignStringCommand(program: Command): void {
  addKeyOptions(
    program
      .command('sign-string')
      .description('Sign a fixed test string with the key (checks that a key works, as the reference helper does)'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'text', 'bin']).default('json'))
    .addOption(new Option('--digest <digest>', 'digest to sign').choices(['SHA256', 'SHA384', 'SHA512']).default('SHA256'))
    .action(async (flags: SignStringFlags, command: Command) => {
      const { openKeySource, resolveKeyOptions } = await import('../keys/index.js');
      const { signTestString } = await import('../keys/sign-test-string.js');
      const debug = debugFor(flags);
      const { spec } = resolveKeyOptions(identityOptionsFrom(flags));
      debug(`opening ${spec.kind} key source`);
      const source = await openKeySource(spec, { debug });
      try {
        debug(`signing the test string with ${source.description} (${source.keyType}, ${flags.digest})`);
        // Only a --digest the user typed is passed on: ML-DSA refuses one, and the default must not trip that.
        const digestGiven = command.getOptionValueSource('digest') !== 'default';
        await writeStdout(await signTestString(source, { format: flags.format, ...(digestGiven ? { digest: flags.digest } : {}) }));
      } finally {
        await source.close();
      }
    });
}
