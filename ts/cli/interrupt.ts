// Ctrl-C during training: the first SIGINT asks the loop to stop after the current
// iteration (which then saves a checkpoint); a second one exits at once. Either way the
// terminal gets its cursor back (the progress bar hides it).

export interface Interrupt {
  readonly requested: boolean;
  dispose(): void;
}

const SHOW_CURSOR = '\x1b[?25h';

export function onInterrupt(): Interrupt {
  let requested = false;
  const handler = () => {
    if (requested) {
      process.stderr.write(`${SHOW_CURSOR}\nmetagrad: second Ctrl-C, exiting without saving\n`);
      process.exit(130);
    }
    requested = true;
    process.stderr.write(`${SHOW_CURSOR}\nmetagrad: Ctrl-C — finishing this iteration and saving a checkpoint (Ctrl-C again to exit at once)\n`);
  };
  process.on('SIGINT', handler);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', handler);
      if (process.stdout.isTTY) process.stdout.write(SHOW_CURSOR);
    },
  };
}
