/**
 * Everything the bench starts (emulators, swtpm, serve, hyperfine, temp dirs) registers how
 * to undo it here, and `runAll` undoes it newest first: on success, on a failed section, and on
 * Ctrl-C or SIGTERM. One failing step never keeps the others from running.
 */
export interface Cleanup {
  /** Registers an undo step; the returned function runs it early (and only once). */
  defer(label: string, undo: () => Promise<void> | void): () => Promise<void>;
  /** True once runAll has begun: start nothing new. */
  readonly closed: boolean;
  runAll(): Promise<readonly string[]>;
}

export function createCleanup(): Cleanup {
  const steps: { label: string; run: () => Promise<void> }[] = [];
  // Undo steps registered after runAll began (a child spawned while stopping): run at once.
  const late = new Set<Promise<void>>();
  let closed = false;
  let finishing: Promise<readonly string[]> | undefined;

  return {
    get closed() {
      return closed;
    },
    defer(label, undo) {
      let done: Promise<void> | undefined;
      const run = (): Promise<void> => {
        done ??= Promise.resolve().then(undo);
        return done;
      };
      if (closed) {
        const running = run().catch(() => undefined);
        late.add(running);
        return run;
      }
      steps.push({ label, run });
      return async () => {
        const index = steps.findIndex((step) => step.run === run);
        if (index !== -1) steps.splice(index, 1);
        await run();
      };
    },
    runAll() {
      // A signal and the normal end may both ask: one pass, and both wait for all of it.
      finishing ??= (async () => {
        closed = true;
        const failures: string[] = [];
        while (steps.length > 0) {
          const step = steps.pop();
          if (step === undefined) break;
          try {
            await step.run();
          } catch (error) {
            failures.push(`${step.label}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        await Promise.all(late);
        return failures;
      })();
      return finishing;
    },
  };
}

/**
 * Runs the cleanup before exiting on SIGINT/SIGTERM (children started in their own process
 * group would not see a terminal's Ctrl-C) and on a crash that escaped every section (an
 * 'error' event nobody listened for, a forgotten rejection).
 */
export function cleanUpOnExit(cleanup: Cleanup, write: (line: string) => void): void {
  let stopping = false;
  const stop = (why: string, exitCode: number): void => {
    if (stopping) return;
    stopping = true;
    write(`\n${why}: stopping the bench and cleaning up\n`);
    cleanup
      .runAll()
      .catch(() => [])
      .finally(() => process.exit(exitCode));
  };
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  process.on('uncaughtException', (error) => stop(`unexpected error (${error.message.split('\n')[0] ?? ''})`, 1));
  process.on('unhandledRejection', (reason) => stop(`unhandled rejection (${reason instanceof Error ? reason.message.split('\n')[0] : String(reason)})`, 1));
}
