/**
 * The guides' code blocks as the doc test sees them. The marking lives in the fence's info
 * string, after the language, in braces (GitHub renders `sh {run}` as an sh block):
 *
 *   ```sh {run}              run in the sandbox, in order with the guide's other runnable blocks
 *   ```console {run}         a transcript: `$ ` lines are run, the lines under each are its
 *                            expected output (stdout and stderr); `...` stands for any text
 *                            within a line, a line of its own `...` for any number of lines
 *   ```sh {needs=yubikey}    not run: needs something CI lacks (see NEEDS, docs/README.md)
 *
 * A shell block is one whose language is sh, bash, shell or console, or an unlabelled block
 * whose first line starts with `$ `. Every shell block must carry one of the two marks.
 */

/** What CI lacks, and what a guide block may therefore need instead of being run. */
export const NEEDS: Readonly<Record<string, string>> = {
  'aws-account': 'a real AWS account (IAM Roles Anywhere, IAM, STS)',
  yubikey: 'a real YubiKey (and pcscd)',
  tpm: 'a TPM chip (/dev/tpmrm0) or a TPM set up outside the sandbox',
  systemd: 'systemd (user or system units)',
  kubernetes: 'a Kubernetes cluster and a container image',
  macos: 'macOS',
  checkout: 'a git checkout of this project (npm ci, npm test, npm run demo)',
  root: 'root rights on the machine (sudo, /usr/local, /etc)',
  'remote-ci': 'a hosted CI service (GitHub Actions) and its secrets',
  'own-pki': 'your own CA, certificate and key files (the guide runs the same steps with a throwaway CA)',
  'fixed-ports': 'fixed TCP ports (swtpm on 2321/2322), which a shared test machine cannot promise',
  release: 'a published release of this project (the npm registry package, a release tarball or executable); the install test (test/package/) installs a packed tarball instead',
  'openssl-3.5': 'OpenSSL 3.5 or later (ML-DSA keys; Debian 12 has 3.0)',
  elided: 'an abbreviated command (`...` stands for your own flags); the message shown was printed by the CLI',
};

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: string;
  readonly run: boolean;
  readonly needs: string | undefined;
  /** Marks this parser did not understand, e.g. a misspelt `{rnu}`. */
  readonly unknownMarks: readonly string[];
  readonly body: string;
}

export interface TranscriptStep {
  readonly command: string;
  readonly expected: string;
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s{`]*)\s*(\{[^}]*\})?\s*$/.exec(lines[index] ?? '');
    if (open === null) continue;
    const fence = open[1] ?? '```';
    const close = new RegExp(`^ {0,3}${fence.startsWith('~') ? '~' : '`'}{${String(fence.length)},}\\s*$`);
    const body: string[] = [];
    let end = index + 1;
    for (; end < lines.length && !close.test(lines[end] ?? ''); end++) body.push(lines[end] ?? '');
    const marks = (open[3] ?? '').replace(/[{}]/g, '').split(/\s+/).filter((mark) => mark !== '');
    const needs = marks.find((mark) => mark.startsWith('needs='))?.slice('needs='.length);
    blocks.push({
      line: index + 1,
      language: open[2] ?? '',
      run: marks.includes('run'),
      needs,
      unknownMarks: marks.filter((mark) => mark !== 'run' && !mark.startsWith('needs=')),
      body: body.join('\n'),
    });
    index = end;
  }
  return blocks;
}

export function isShellBlock(block: CodeBlock): boolean {
  if (['sh', 'bash', 'shell', 'console'].includes(block.language)) return true;
  return block.language === '' && /^\$ /.test(block.body.trimStart());
}

/** `$ ` lines (with their `\` continuations) and the output shown under each. */
export function transcriptSteps(body: string): TranscriptStep[] {
  const steps: Array<{ command: string[]; expected: string[] }> = [];
  let continuing = false;
  for (const line of body.split('\n')) {
    const current = steps.at(-1);
    if (continuing && current !== undefined) {
      current.command.push(line);
      continuing = line.endsWith('\\');
    } else if (line.startsWith('$ ')) {
      steps.push({ command: [line.slice(2)], expected: [] });
      continuing = line.endsWith('\\');
    } else if (current !== undefined) {
      current.expected.push(line);
    }
  }
  return steps.map((step) => ({ command: step.command.join('\n'), expected: step.expected.join('\n').replace(/\n+$/, '') }));
}

/** Does `actual` show what `expected` shows? `...` is any text in a line; a `...` line, any lines. */
export function outputMatches(expected: string, actual: string): boolean {
  if (expected === '') return true;
  const pattern = expected
    .split('\n')
    .map((line) => (line.trim() === '...' ? '(?:[^\\n]*\\n)*?' : `${line.split('...').map(escapeRegExp).join('[^\\n]*')}\\n`))
    .join('');
  return new RegExp(`^${pattern}$`).test(actual.endsWith('\n') ? actual : `${actual}\n`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
