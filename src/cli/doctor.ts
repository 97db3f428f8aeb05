import type { Command } from 'commander';
import { addSigningOptions, identityOptionsFrom, parseDuration, parseTimeout, type SigningFlags } from './options.js';
import { debugFor, noticeOnTerminal, writeStdout } from './io.js';

interface DoctorFlags extends SigningFlags {
  trustAnchorCertificate?: string;
  offline?: boolean;
  json?: boolean;
}

/** `doctor`: the checks the service makes, run locally, one line each with the fix. */
export function registerDoctorCommand(program: Command): void {
  addSigningOptions(
    program
      .command('doctor')
      .description('Check locally what IAM Roles Anywhere would refuse: certificate, chain, key and ARNs, one line each with the fix'),
  )
    .option('--trust-anchor-certificate <path>', 'PEM bundle of the trust anchor\'s CA certificates, to check that the chain reaches it')
    .option('--offline', 'skip the network checks (endpoint reachable, clock against its Date header)')
    .option('--json', 'print the checks as JSON')
    .action(async (flags: DoctorFlags) => {
      const { runDoctor } = await import('../doctor/run.js');
      const { doctorExitCode, formatCheckResults } = await import('../doctor/checks.js');
      const results = await runDoctor(
        {
          ...identityOptionsFrom(flags),
          ...(flags.trustAnchorArn !== undefined ? { trustAnchorArn: flags.trustAnchorArn } : {}),
          ...(flags.profileArn !== undefined ? { profileArn: flags.profileArn } : {}),
          ...(flags.roleArn !== undefined ? { roleArn: flags.roleArn } : {}),
          ...(flags.region !== undefined ? { region: flags.region } : {}),
          ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
          // Not a number at all is a usage error, as for credential-process; out of range is a check line.
          durationSeconds: parseDuration(flags.sessionDuration ?? '3600'),
          ...(flags.timeout !== undefined ? { timeoutSeconds: parseTimeout(flags.timeout) } : {}),
          ...(flags.roleSessionName !== undefined ? { roleSessionName: flags.roleSessionName } : {}),
          offline: flags.offline === true,
          withProxy: flags.withProxy === true,
          insecureSkipVerify: flags.verifySsl === false,
          ...(flags.trustAnchorCertificate !== undefined ? { trustAnchorCertificate: flags.trustAnchorCertificate } : {}),
          debug: debugFor(flags),
          notice: noticeOnTerminal,
        },
        new Date(),
      );
      await writeStdout(flags.json === true ? `${JSON.stringify(results, null, 2)}\n` : formatCheckResults(results));
      process.exitCode = doctorExitCode(results);
    });
}
