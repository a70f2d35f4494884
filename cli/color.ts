// Terminal colour through picocolors: on when FORCE_COLOR asks (anything but
// "0"), off when NO_COLOR is set or the output is not a terminal.
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(env: NodeJS.ProcessEnv, isTTY: boolean): Colors {
  const force = env.FORCE_COLOR;
  const on = force !== undefined && force !== '' ? force !== '0' && force !== 'false' : env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? false : isTTY;
  return pc.createColors(on);
}

/** A run or test status in its colour: green only for a pass. */
export function paintStatus(c: Colors, text: string, outcome: string | null | undefined = null): string {
  if (outcome === 'failed' || text === 'failed' || text === 'error') return c.red(text);
  if (outcome === 'passed' || text === 'passed') return c.green(text);
  if (text === 'running') return c.cyan(text);
  if (text === 'stopped' || text === 'interrupted' || outcome === 'incomplete') return c.yellow(text);
  return text;
}
