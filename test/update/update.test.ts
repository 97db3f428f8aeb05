import t from 'tap';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startUpdateLoop } from '../../src/update/update.js';
import type { Timers } from '../../src/credentials/refresher.js';
import { startRig, type Rig } from '../helpers/emulator-rig.js';

let rig: Rig;
let identity: { certificatePath: string; keyPath: string; chainPath: string };
t.before(async () => {
  rig = await startRig();
  identity = await rig.issueFileIdentity('update-loop-client');
});
t.teardown(() => rig.close());

/** Refreshes only when the test calls refreshNow. */
const idleTimers: Timers = { setTimeout: () => undefined, clearTimeout: () => {} };

t.test('a write that fails is retried with the credentials already obtained, not a new signature', async (t) => {
  const path = join(rig.dir, 'loop-credentials');
  const logs: string[] = [];
  const running = await startUpdateLoop(
    {
      identity: { certificate: identity.certificatePath, privateKey: identity.keyPath, intermediates: identity.chainPath },
      session: { trustAnchorArn: rig.trustAnchorArn, profileArn: rig.profileArn, roleArn: rig.roleArn, endpoint: rig.url },
      profile: 'loop',
      path,
    },
    { log: (line) => logs.push(line), debug: () => {}, timers: idleTimers, refresh: { minIntervalMs: 0 } },
  );
  t.teardown(() => running.close());
  const written = await readFile(path, 'utf8');
  const sessions = rig.stats.createSession;

  // The file turns into a directory: the next write fails after a CreateSession.
  await rm(path);
  await mkdir(path);
  await running.refresher.refreshNow();
  t.equal(rig.stats.createSession, sessions + 1, 'one CreateSession for the refresh');
  t.match(logs.at(-1), new RegExp(`^refresh failed \\(cannot read ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(EISDIR\\): check the path and its permissions\\); ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} keeps the last good credentials until `));

  // The file can be written again: the credentials of the failed write go in, without signing.
  await rm(path, { recursive: true });
  await writeFile(path, '');
  await running.refresher.refreshNow();
  t.equal(rig.stats.createSession, sessions + 1, 'no second CreateSession');
  const rewritten = await readFile(path, 'utf8');
  t.match(rewritten, /^\[loop\]\naws_access_key_id = ASIA/);
  t.not(rewritten, written, 'the credentials of the refresh, not the first ones');

  // Once written, the next refresh signs again.
  await running.refresher.refreshNow();
  t.equal(rig.stats.createSession, sessions + 2);
});
