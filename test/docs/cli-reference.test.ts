import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { run, runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/paths.js';

/**
 * Keeps the user documentation honest: every command and long flag the built CLI shows in its
 * --help must have a table row in docs/cli.md, in the command's own section or in a section that
 * section links to (the shared key and credential flags), and every relative link in docs/*.md
 * and README.md must point at an existing file (and, for .md targets, an existing heading).
 */

const docsDir = join(repoRoot, 'docs');
const cliDocPath = join(docsDir, 'cli.md');

interface HelpListing {
  readonly commands: readonly string[];
  readonly longFlags: readonly string[];
}

/**
 * Commander's help: entries start with exactly two spaces; wrapped descriptions are indented
 * further. Options come in groups ("Certificate and key:", "Request:", ..., "Options:"); the
 * text sections after them (Examples, Environment, Exit codes) hold no line that starts with
 * two spaces and a dash, so every heading but Usage and Commands may hold flags.
 */
function parseHelp(text: string): HelpListing {
  const commands: string[] = [];
  const longFlags: string[] = [];
  let block: 'options' | 'commands' | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      block = line.startsWith('Commands:') ? 'commands' : line.startsWith('Usage:') || !line.endsWith(':') ? undefined : 'options';
      continue;
    }
    if (block === 'options') {
      const flag = /^ {2}(?:-[A-Za-z], )?(--[a-z0-9][a-z0-9-]*)/.exec(line)?.[1];
      if (flag !== undefined) longFlags.push(flag);
    } else if (block === 'commands') {
      const command = /^ {2}([a-z][a-z0-9-]*)/.exec(line)?.[1];
      if (command !== undefined && command !== 'help') commands.push(command);
    }
  }
  return { commands, longFlags };
}

interface Section {
  readonly level: number;
  readonly title: string;
  readonly slug: string;
  /** The heading line and everything up to the next heading of the same or a higher level. */
  readonly text: string;
}

/** Fenced code blocks blanked out (line count kept): `# comment` in a shell block is no heading. */
function withoutFencedCode(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker !== undefined) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's heading anchors: lower case, punctuation dropped, each space a hyphen, -1, -2 for repeats. */
function githubSlug(title: string, seen: Map<string, number>): string {
  const plain = title.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
  const base = plain.trim().toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/\s/g, '-');
  const count = seen.get(base) ?? 0;
  seen.set(base, count + 1);
  return count === 0 ? base : `${base}-${count}`;
}

function parseSections(markdown: string): Section[] {
  const lines = markdown.split('\n');
  const headingLines = withoutFencedCode(markdown).split('\n');
  const starts: Array<{ index: number; level: number; title: string }> = [];
  headingLines.forEach((line, index) => {
    const match = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) starts.push({ index, level: match[1].length, title: match[2] });
  });
  const seen = new Map<string, number>();
  return starts.map((start, position) => {
    const next = starts.slice(position + 1).find((later) => later.level <= start.level);
    return {
      level: start.level,
      title: start.title,
      slug: githubSlug(start.title, seen),
      text: lines.slice(start.index, next?.index ?? lines.length).join('\n'),
    };
  });
}

/** The command's section plus every section it links to by #anchor, transitively. */
function documentationScope(sections: readonly Section[], command: string): string | undefined {
  const own = sections.find((section) => section.title.startsWith(`\`${command}\``));
  if (own === undefined) return undefined;
  const included = new Set<Section>([own]);
  const pending = [own];
  for (let section = pending.pop(); section !== undefined; section = pending.pop()) {
    for (const match of section.text.matchAll(/\]\(#([^)\s]+)\)/g)) {
      const target = sections.find((candidate) => candidate.slug === match[1]);
      if (target !== undefined && !included.has(target)) {
        included.add(target);
        pending.push(target);
      }
    }
  }
  return [...included].map((section) => section.text).join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A flag counts as documented when it is the subject of a table row: it appears in the row's
 * first cell (`| \`--port <port>\` | default | meaning |`). A mention in prose ("requires
 * --hop-limit 1") does not count. Whole flags only: --profile-arn does not document --profile.
 */
function missingFlags(flags: readonly string[], documentation: string): string[] {
  const firstCells = documentation
    .split('\n')
    .filter((line) => line.trimStart().startsWith('|'))
    .map((line) => line.trimStart().slice(1).split(/(?<!\\)\|/)[0] ?? '');
  return flags.filter((flag) => {
    const whole = new RegExp(`(?<![A-Za-z0-9-])${escapeRegExp(flag)}(?![A-Za-z0-9-])`);
    return !firstCells.some((cell) => whole.test(cell));
  });
}

/** Link targets outside code: inline links, images and reference definitions. */
function linkTargets(markdown: string): string[] {
  const prose = withoutFencedCode(markdown).replace(/(`+)[\s\S]*?\1/g, '');
  const targets: string[] = [];
  for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) if (match[1] !== undefined) targets.push(match[1]);
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)) if (match[1] !== undefined) targets.push(match[1]);
  return targets;
}

/** Every relative link of one Markdown file that does not resolve, as "target (why)". */
function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const destination = pathPart === '' ? file : resolve(dirname(file), pathPart);
    if (!existsSync(destination)) {
      broken.push(`${target} (no file ${relative(repoRoot, destination)})`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && destination.endsWith('.md')) {
      const slugs = parseSections(readFileSync(destination, 'utf8')).map((section) => section.slug);
      if (!slugs.includes(anchor)) broken.push(`${target} (no heading #${anchor} in ${relative(repoRoot, destination)})`);
    }
  }
  return broken;
}

async function helpOf(args: readonly string[]): Promise<HelpListing> {
  const result = await runCli([...args, '--help']);
  if (result.code !== 0) throw new Error(`${args.join(' ')} --help exited ${String(result.code)}: ${result.stderr}`);
  return parseHelp(result.stdout);
}

t.test('the checks themselves can fail', async (t) => {
  const help = 'Usage: x serve [options]\n\nEndpoint:\n  --port <port>     port\n                    --bind in a wrapped description\n\nOptions:\n  --profile <name>  profile\n  -h, --help        help\n\nExamples:\n  $ x serve --bind ::1\n';
  t.same(parseHelp(help).longFlags, ['--port', '--profile', '--help'], 'flags in every group; wrapped descriptions and examples are not flags');
  const doc = [
    '# CLI', '', '## `serve`', '', 'Takes the [shared flags](#shared-flags). Requires --bind in prose only.', '',
    '| Flag | Meaning |', '|---|---|', '| `--allow-non-loopback` | needs `--bind` |', '',
    '## `update`', '', '| `--profile-arn <arn>` | the profile ARN |', '',
    '## Shared flags', '', '| `--port <port\\|n>` | the port |', '',
  ].join('\n');
  const sections = parseSections(doc);
  t.same(missingFlags(['--port', '--allow-non-loopback'], documentationScope(sections, 'serve') ?? ''), [], 'a row in a linked section counts');
  t.same(missingFlags(['--bind'], documentationScope(sections, 'serve') ?? ''), ['--bind'], 'a mention in prose or another row does not count');
  t.same(missingFlags(['--profile'], documentationScope(sections, 'update') ?? ''), ['--profile'], '--profile-arn does not document --profile');
  t.same(missingFlags(['--port'], documentationScope(sections, 'update') ?? ''), ['--port'], 'a section that does not link to the shared flags does not get them');
  t.equal(documentationScope(sections, 'emulate'), undefined, 'a command without a section is reported');
  const file = join(docsDir, 'example.md');
  t.same(
    brokenLinks(file, '[ok](cli.md) [gone](no-such-guide.md) [bad anchor](cli.md#no-such-heading) `[code](ignored.md)`\n```\n[x](also-ignored.md)\n```\n'),
    ['no-such-guide.md (no file docs/no-such-guide.md)', 'cli.md#no-such-heading (no heading #no-such-heading in docs/cli.md)'],
  );
});

t.test('docs/cli.md documents every command and long flag of the built CLI', async (t) => {
  const cliDoc = readFileSync(cliDocPath, 'utf8');
  const sections = parseSections(cliDoc);
  const root = await helpOf([]);
  // A parser that silently found nothing would pass everything below.
  t.ok(root.commands.length >= 7, `the CLI lists its commands: ${root.commands.join(', ')}`);
  t.ok(root.commands.includes('credential-process'), 'credential-process is among them');
  t.same(missingFlags(root.longFlags, cliDoc), [], `global options documented: ${root.longFlags.join(' ')}`);

  const listings = await Promise.all(root.commands.map(async (command) => ({ command, help: await helpOf([command]) })));
  const credentialProcess = listings.find((listing) => listing.command === 'credential-process');
  t.ok((credentialProcess?.help.longFlags.length ?? 0) >= 20, 'credential-process --help shows its flags');

  for (const { command, help } of listings) {
    const scope = documentationScope(sections, command);
    t.ok(scope !== undefined, `docs/cli.md has a section headed \`${command}\``);
    // --help is on every command and documented once, under Global options.
    const flags = help.longFlags.filter((flag) => flag !== '--help');
    t.same(missingFlags(flags, scope ?? ''), [], `${command}: every long flag has a row in its section or a section it links to`);
  }
});

t.test('relative links in docs/*.md and README.md point at existing files and headings', async (t) => {
  const files = [
    join(repoRoot, 'README.md'),
    ...readdirSync(docsDir).filter((name) => name.endsWith('.md')).sort().map((name) => join(docsDir, name)),
  ].filter((file) => existsSync(file));
  t.ok(files.includes(cliDocPath), 'docs/cli.md is among the checked files');
  for (const file of files) {
    t.same(brokenLinks(file, readFileSync(file, 'utf8')), [], `${relative(repoRoot, file)}: no broken relative links`);
  }
});

t.test('each --help teaches: grouped options, examples, environment, exit codes, plain defaults', async (t) => {
  const rootText = (await runCli(['--help'])).stdout;
  t.match(rootText, /^Usage: roles-anywhere-signer \[options\] \[command\]/);
  t.match(rootText, /\nExamples:\n {2}\$ roles-anywhere-signer emulate --init \.\/emu/);
  t.match(rootText, /\nExit codes:\n {2}0 {2}success.*\n {2}1 {2}.*\n {2}2 {2}a usage error/);
  const root = parseHelp(rootText);
  for (const command of root.commands) {
    const text = (await runCli([command, '--help'])).stdout;
    const examples = /\nExamples:\n((?: {2}.*\n)+)/.exec(text)?.[1] ?? '';
    const exampleCount = examples.split('\n').filter((line) => line.startsWith(`  $ `)).length;
    t.ok(exampleCount >= 2 && exampleCount <= 3, `${command}: two or three examples (found ${String(exampleCount)})`);
    t.ok(examples.split('\n').filter((line) => line.startsWith('  $ ')).every((line) => /\broles-anywhere-signer /.test(line)), `${command}: examples run the tool`);
    t.match(text, /\nEnvironment:\n {2}\S/, `${command}: names the environment it reads (or none)`);
    t.match(text, /\nExit codes:\n {2}0 /, `${command}: lists exit codes`);
    t.notMatch(text, /default: "/, `${command}: defaults shown as values, not quoted strings`);
  }
  const credentialProcess = (await runCli(['credential-process', '--help'])).stdout;
  const headings = credentialProcess.split('\n').filter((line) => /^\S.*:$/.test(line));
  t.same(
    headings,
    ['Certificate and key:', 'PKCS#11:', 'TPM:', 'Request:', 'Output and diagnostics:', 'Options:', 'Examples:', 'Environment:', 'Exit codes:'],
    'credential-process options in reading order',
  );
  t.match(credentialProcess, /\nRequest:\n(?: {2}.*\n)*? {2}--session-duration <seconds> +credential lifetime in seconds, 900 to\s+43200 \(default: 3600\)/);
  t.match(credentialProcess, /\nTPM:\n {2}--tpm-key-password/);
  t.match(credentialProcess, /\n {2}ROLES_ANYWHERE_PIN\n {6}PKCS#11 user PIN/);
  const signString = (await runCli(['sign-string', '--help'])).stdout;
  t.match(signString, /--format <format> +output format \(one of json, text, bin;\s+default: json\)/);
  const update = (await runCli(['update', '--help'])).stdout;
  t.match(update, /\n {2}AWS_SHARED_CREDENTIALS_FILE\n/, 'update names the credentials-file variable');
  t.match(update, /\nCredentials file:\n {2}--profile <name> +profile to write \(default: default\)/);
});

t.test('--help shows the name the CLI was called by (an aws_signing_helper symlink)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'help-name-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const link = join(dir, 'aws_signing_helper');
  await symlink(cliPath, link);
  const root = await run(process.execPath, [link, '--help']);
  t.equal(root.code, 0);
  t.match(root.stdout, /^Usage: aws_signing_helper \[options\] \[command\]\n/);
  t.notMatch(root.stdout, /roles-anywhere-signer /, 'examples use the same name');
  const command = await run(process.execPath, [link, 'credential-process', '--help']);
  t.match(command.stdout, /^Usage: aws_signing_helper credential-process \[options\]\n/);
  t.match(command.stdout, /\n {2}\$ aws_signing_helper credential-process --certificate me\.pem/);
  const direct = await runCli(['--help']);
  t.match(direct.stdout, /^Usage: roles-anywhere-signer /, 'run as node .../main.js it keeps its own name');
});
