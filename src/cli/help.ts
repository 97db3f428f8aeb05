/**
 * What `--help` teaches, kept apart from the command files: option groups, examples, the
 * environment each command reads, and exit codes. Applied once, after every command is
 * registered, so a command file only declares its flags. Plain data and string joins: nothing
 * here may cost start-up time (wip-loading keeps `--help` at Node's floor).
 */
import type { Command, Help, Option } from 'commander';

const CERTIFICATE_AND_KEY = 'Certificate and key:';
const PKCS11 = 'PKCS#11:';
const TPM = 'TPM:';
const REQUEST = 'Request:';
const OUTPUT = 'Output and diagnostics:';

/** The group of a long flag wherever it appears; a command can override it below. */
const SHARED_GROUPS: Readonly<Record<string, string>> = {
  '--certificate': CERTIFICATE_AND_KEY,
  '--private-key': CERTIFICATE_AND_KEY,
  '--intermediates': CERTIFICATE_AND_KEY,
  '--pkcs8-password': CERTIFICATE_AND_KEY,
  '--cert-selector': CERTIFICATE_AND_KEY,
  '--system-store-name': CERTIFICATE_AND_KEY,
  '--use-latest-expiring-certificate': CERTIFICATE_AND_KEY,
  '--pkcs11-lib': PKCS11,
  '--reuse-pin': PKCS11,
  '--login': PKCS11,
  '--tpm-key-password': TPM,
  '--no-tpm-key-password': TPM,
  '--tpm-tcti': TPM,
  '--trust-anchor-arn': REQUEST,
  '--profile-arn': REQUEST,
  '--role-arn': REQUEST,
  '--session-duration': REQUEST,
  '--region': REQUEST,
  '--endpoint': REQUEST,
  '--no-verify-ssl': REQUEST,
  '--with-proxy': REQUEST,
  '--role-session-name': REQUEST,
  '--cache': OUTPUT,
  '--format': OUTPUT,
  '--digest': OUTPUT,
  '--json': OUTPUT,
  '--short': OUTPUT,
  '--quiet': OUTPUT,
  '--debug': OUTPUT,
};

interface CommandHelp {
  /** Per-command group of flags that only this command has. */
  readonly groups?: Readonly<Record<string, string>>;
  readonly examples: readonly string[];
  /** Variable and what the command takes from it. */
  readonly environment: ReadonlyArray<readonly [string, string]>;
}

const ARNS =
  '--trust-anchor-arn arn:aws:rolesanywhere:eu-west-1:111122223333:trust-anchor/TA_ID \\\n' +
  '      --profile-arn arn:aws:rolesanywhere:eu-west-1:111122223333:profile/PROFILE_ID \\\n' +
  '      --role-arn arn:aws:iam::111122223333:role/ROLE_NAME';

const KEY_ENVIRONMENT: ReadonlyArray<readonly [string, string]> = [
  ['ROLES_ANYWHERE_PIN', 'PKCS#11 user PIN, when the URI has no pin-value or pin-source'],
  ['ROLES_ANYWHERE_PKCS8_PASSWORD', 'password of an encrypted key file or PKCS#12 file'],
  ['ROLES_ANYWHERE_TPM_KEY_PASSWORD', 'password of a TPM key'],
  ['ROLES_ANYWHERE_TPM_TCTI, TPM2TOOLS_TCTI, TPM_DEVICE', 'which TPM, when --tpm-tcti is not given'],
];
const PROXY_ENVIRONMENT: readonly [string, string] = ['HTTPS_PROXY, HTTP_PROXY, NO_PROXY', 'the proxy, with --with-proxy only'];

const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  'credential-process': {
    examples: [
      `$ roles-anywhere-signer credential-process --certificate me.pem --private-key me.key \\\n      ${ARNS}`,
      `$ ROLES_ANYWHERE_PIN=123456 roles-anywhere-signer credential-process \\\n      --certificate 'pkcs11:token=YubiKey%20PIV%20%2312345678;object=X.509%20Certificate%20for%20Digital%20Signature' \\\n      --reuse-pin --cache ${ARNS}`,
      '$ roles-anywhere-signer credential-process --certificate emu/client.pem --private-key emu/client.key \\\n      --endpoint "$ENDPOINT" ...   # against `roles-anywhere-signer emulate`',
    ],
    environment: [...KEY_ENVIRONMENT, PROXY_ENVIRONMENT, ['XDG_RUNTIME_DIR, XDG_CACHE_HOME', 'where --cache keeps credentials (else ~/.cache)']],
  },
  serve: {
    groups: {
      '--port': 'Endpoint:',
      '--hop-limit': 'Endpoint:',
      '--bind': 'Endpoint:',
      '--allow-non-loopback': 'Endpoint:',
      '--container': 'Endpoint:',
      '--container-token-file': 'Endpoint:',
    },
    examples: [
      `$ roles-anywhere-signer serve --certificate me.pem --private-key me.key \\\n      ${ARNS}\n    export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9911/`,
      `$ roles-anywhere-signer serve --container --container-token-file ~/.config/ras-token --port 0 \\\n      --certificate me.pem --private-key handle:0x81000001 --no-tpm-key-password ${ARNS}`,
    ],
    environment: [
      ...KEY_ENVIRONMENT,
      PROXY_ENVIRONMENT,
      ['AWS_CONTAINER_AUTHORIZATION_TOKEN', 'with --container: the token to require, when --container-token-file is not given'],
      ['ROLES_ANYWHERE_NO_NATIVE', '1: run without the native hardening addon'],
    ],
  },
  update: {
    groups: { '--profile': 'Credentials file:', '--once': 'Credentials file:' },
    examples: [
      `$ roles-anywhere-signer update --once --profile work --certificate me.pem --private-key me.key \\\n      ${ARNS}`,
      `$ roles-anywhere-signer update --profile default --certificate me.pem --private-key me.key \\\n      ${ARNS}   # keeps refreshing until Ctrl-C`,
    ],
    environment: [
      ...KEY_ENVIRONMENT,
      PROXY_ENVIRONMENT,
      ['AWS_SHARED_CREDENTIALS_FILE', 'the file to write (default ~/.aws/credentials)'],
      ['ROLES_ANYWHERE_NO_NATIVE', '1: run without the native hardening addon'],
    ],
  },
  'sign-string': {
    examples: [
      '$ roles-anywhere-signer sign-string --private-key emu/client.key --format text',
      "$ roles-anywhere-signer sign-string --private-key 'pkcs11:token=ci;object=ci-key;type=private' \\\n      --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so --digest SHA384",
      '$ roles-anywhere-signer sign-string --private-key key.tss --tpm-tcti swtpm:host=127.0.0.1,port=2321 --no-tpm-key-password',
    ],
    environment: KEY_ENVIRONMENT,
  },
  'read-certificate-data': {
    examples: [
      '$ roles-anywhere-signer read-certificate-data --certificate emu/client.pem',
      "$ roles-anywhere-signer read-certificate-data --certificate 'pkcs11:token=ci' --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so",
    ],
    environment: [],
  },
  list: {
    examples: [
      '$ roles-anywhere-signer list --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so',
      "$ roles-anywhere-signer list 'pkcs11:token=ci' --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so --short",
      "$ ROLES_ANYWHERE_PIN=123456 roles-anywhere-signer list 'pkcs11:token=ci' --login --json",
    ],
    environment: [['ROLES_ANYWHERE_PIN', 'the user PIN for --login, when the URI has no pin-source']],
  },
  emulate: {
    groups: {
      '--init': 'Emulator:',
      '--config': 'Emulator:',
      '--port': 'Emulator:',
      '--host': 'Emulator:',
      '--region': 'Emulator:',
      '--trust-anchor-cert': 'Emulator:',
    },
    examples: [
      '$ roles-anywhere-signer emulate --init ./emu',
      '$ roles-anywhere-signer emulate --config ./emu/emulator.json --port 0\n    http://127.0.0.1:40123          # its URL, alone on the first line of stdout',
      '$ exec 3< <(roles-anywhere-signer emulate --config ./emu/emulator.json --port 0); read -r ENDPOINT <&3',
    ],
    environment: [],
  },
  enroll: {
    groups: {
      '--key-type': 'Enrolment:',
      '--subject': 'Enrolment:',
      '--out': 'Enrolment:',
      '--import-certificate': 'Enrolment:',
      '--with-chain': 'Enrolment:',
      '--intermediates': 'Enrolment:',
      '--private-key': 'Enrolment:',
      '--tpm': 'Enrolment:',
      '--persistent-handle': TPM,
      '--parent-handle': TPM,
    },
    examples: [
      "$ ROLES_ANYWHERE_PIN=123456 roles-anywhere-signer enroll --private-key 'pkcs11:token=ci;object=build-01' \\\n      --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so --key-type ec-p256 --subject 'CN=build-01,O=Example' --out build-01.csr",
      "$ ROLES_ANYWHERE_PIN=123456 roles-anywhere-signer enroll --import-certificate build-01.pem \\\n      --private-key 'pkcs11:token=ci;object=build-01' --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so",
      "$ roles-anywhere-signer enroll --tpm --private-key ./build-01.tss2.pem --persistent-handle 0x81000010 \\\n      --subject 'CN=build-01,O=Example' --out build-01.csr",
    ],
    environment: [
      ['ROLES_ANYWHERE_PIN', 'the user PIN, when the URI has no pin-value or pin-source'],
      ['ROLES_ANYWHERE_TPM_KEY_PASSWORD', 'with --tpm: the new key\'s password, when --tpm-key-password is not given (none when unset)'],
      ['ROLES_ANYWHERE_TPM_TCTI, TPM2TOOLS_TCTI, TPM_DEVICE', 'with --tpm: which TPM, when --tpm-tcti is not given'],
    ],
  },
  doctor: {
    groups: { '--trust-anchor-certificate': CERTIFICATE_AND_KEY, '--offline': REQUEST },
    examples: [
      `$ roles-anywhere-signer doctor --certificate me.pem --private-key me.key --intermediates chain.pem \\\n      --trust-anchor-certificate ca.pem ${ARNS}`,
      "$ roles-anywhere-signer doctor --certificate 'pkcs11:token=ci;object=build-01;type=cert' --pkcs11-lib /usr/lib/softhsm/libsofthsm2.so --json",
      `$ HTTPS_PROXY=http://proxy.example:3128 roles-anywhere-signer doctor --with-proxy --session-duration 7200 ${ARNS}`,
    ],
    environment: [...KEY_ENVIRONMENT, PROXY_ENVIRONMENT],
  },
  version: { examples: ['$ roles-anywhere-signer version', '$ roles-anywhere-signer --version'], environment: [] },
};

const EXIT_CODES = [
  '  0  success (also --help, --version, and serve/update stopped by SIGINT or SIGTERM)',
  '  1  a file, key, certificate, PIN, TPM, network or service error (one line on stderr)',
  '  2  a usage error: unknown flag or command, missing or malformed value, missing ARN',
].join('\n');

const DOCTOR_EXIT_CODES = [
  '  0  no check failed (warnings allowed)',
  '  1  at least one check failed: the line says what to fix',
  '  2  a usage error: unknown flag, missing or malformed value',
].join('\n');

const ROOT_EXAMPLES = [
  '$ roles-anywhere-signer emulate --init ./emu            # a throwaway CA, key and config to try it all locally',
  '$ roles-anywhere-signer credential-process --help       # flags, examples and environment of one command',
  '$ roles-anywhere-signer list --pkcs11-lib /usr/lib/x86_64-linux-gnu/libykcs11.so   # URIs of a YubiKey',
];

/**
 * The name the user typed: `aws_signing_helper` through a migration symlink, else
 * `roles-anywhere-signer` (also when run as `node dist/src/cli/main.js`).
 */
export function invokedName(scriptPath: string | undefined): string {
  const base = (scriptPath ?? '').split(/[\\/]/).pop() ?? '';
  if (base === '' || /\.[cm]?js$/.test(base)) return 'roles-anywhere-signer';
  return base;
}

/** Applies groups, examples, environment and exit codes to the program and every command. */
export function applyHelp(program: Command, name: string): void {
  program.name(name);
  const rename = (text: string): string => (name === 'roles-anywhere-signer' ? text : text.replaceAll('roles-anywhere-signer ', `${name} `));
  program.configureHelp(HELP_CONFIGURATION);
  program.addHelpText('after', rename(section('Examples', ROOT_EXAMPLES.map((line) => `  ${line}`).join('\n')) + section('Exit codes', EXIT_CODES) + '\nEvery flag, environment variable and error code: docs/cli.md\n'));
  for (const command of program.commands) {
    command.configureHelp(HELP_CONFIGURATION);
    const help = COMMAND_HELP[command.name()];
    for (const option of command.options) {
      const group = (option.long !== undefined ? help?.groups?.[option.long] ?? SHARED_GROUPS[option.long] : undefined);
      if (group !== undefined) option.helpGroup(group);
    }
    if (help === undefined) continue;
    const environment = help.environment.length === 0
      ? '  none'
      : help.environment.map(([variable, meaning]) => `  ${variable}\n      ${meaning}`).join('\n');
    command.addHelpText(
      'after',
      rename(section('Examples', help.examples.map((example) => `  ${example}`).join('\n')) + section('Environment', environment) + section('Exit codes', command.name() === 'doctor' ? DOCTOR_EXIT_CODES : EXIT_CODES)),
    );
  }
}

function section(title: string, body: string): string {
  return `\n${title}:\n${body}\n`;
}

/** Groups in reading order: what to sign with, how to ask, then output; ungrouped flags last. */
const GROUP_ORDER = [CERTIFICATE_AND_KEY, 'Enrolment:', PKCS11, TPM, REQUEST, 'Endpoint:', 'Credentials file:', 'Emulator:', OUTPUT];

function groupRank(heading: string): number {
  const rank = GROUP_ORDER.indexOf(heading);
  return rank === -1 ? GROUP_ORDER.length : rank;
}

const HELP_CONFIGURATION: Partial<Help> = {
  // commander lists groups in the order their first flag was declared; declaring is the command
  // files' business, reading order is ours. Ungrouped flags (and --help) stay in "Options:", last.
  groupItems<T extends Command | Option>(this: Help, unsorted: T[], visible: T[], getGroup: (item: T) => string): Map<string, T[]> {
    const prototype = Object.getPrototypeOf(this) as Help;
    const groups = prototype.groupItems.call(this, unsorted, visible, getGroup as (item: Command | Option) => string) as Map<string, T[]>;
    return new Map([...groups].sort(([a], [b]) => groupRank(a) - groupRank(b)));
  },
  /** Defaults and choices as the user types them: `3600`, not `"3600"`. */
  optionDescription(option: Option): string {
    const extra: string[] = [];
    if (option.argChoices !== undefined) extra.push(`one of ${option.argChoices.join(', ')}`);
    const shown = option.defaultValueDescription ?? defaultShown(option.defaultValue);
    if ((option.required || option.optional) && shown !== undefined) extra.push(`default: ${shown}`);
    return extra.length === 0 ? option.description : `${option.description} (${extra.join('; ')})`;
  },
};

function defaultShown(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return undefined;
}
