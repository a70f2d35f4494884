// A command as a user would type it: arguments quoted for a POSIX shell only
// where needed, so printed commands stay readable and still paste correctly.

function quoteArg(s: string): string {
  return /^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** @example commandLine(['agentv', 'eval', 'my suite.yaml']) // "agentv eval 'my suite.yaml'" */
export function commandLine(args: string[]): string {
  return args.map(quoteArg).join(' ');
}
