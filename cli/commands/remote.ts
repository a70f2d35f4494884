// Registry entries for sharing results (push, pull, sync, promote, link),
// kept beside main.ts's registry so that file stays one screen per group.
// Handlers live in results.ts and load lazily, like every other command.
import type { Command } from 'commander';
import type { CommandContext, CommandResult } from '../context.js';

type Run = (handler: (ctx: CommandContext) => Promise<CommandResult>) => Promise<void>;

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export function registerRemoteCommands(results: Command, run: Run): void {
  const handlers = () => import('./results.js');
  const remoteOpt = (cmd: Command) =>
    cmd.option('--remote <name>', 'git remote to use (default: origin, or the only remote)').option('--json', 'print JSON on stdout');

  const timeoutOpt = (cmd: Command) =>
    cmd.option('--push-timeout <duration>', 'give up (exit 1, runs kept locally) if the push cannot land within this long: 90s, 10m, 1h, or seconds (default 10m)');

  timeoutOpt(remoteOpt(results.command('push').description('push refs/agentv/runs/v1 to a remote: merged with what is there, never forced; when another machine pushes at the same moment, to an incoming ref of its own that readers fold in')))
    .addHelpText('after', examples(['agentv results push', 'agentv results push --remote upstream --json', 'agentv results push --push-timeout 2m']))
    .action((opts) => run(async (ctx) => (await handlers()).resultsPush(ctx, opts)));

  remoteOpt(results.command('pull').description("fetch a remote's runs (its results ref and incoming refs) and merge them into the local results ref"))
    .addHelpText('after', examples(['agentv results pull', 'agentv results pull && agentv runs list']))
    .action((opts) => run(async (ctx) => (await handlers()).resultsPull(ctx, opts)));

  timeoutOpt(remoteOpt(results.command('sync').description('pull, then push')))
    .addHelpText('after', examples(['agentv results sync', 'agentv results sync --remote origin --json']))
    .action((opts) => run(async (ctx) => (await handlers()).resultsSync(ctx, opts)));

  results
    .command('promote')
    .description('copy every run to a separate results repository and send future runs there (.agentv/config.yaml)')
    .requiredOption('--to <url-or-path>', 'a git URL, or a local path (created as a bare repository if missing)')
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', examples(['agentv results promote --to git@github.com:acme/eval-results.git', 'agentv results promote --to ../eval-results.git']))
    .action((opts) => run(async (ctx) => (await handlers()).resultsPromote(ctx, opts)));

  results
    .command('link <run_id>')
    .description("attach Agentv-Run: <run_id> to the run's source commit: a trailer on an unpublished HEAD, else a note (refs/notes/agentv)")
    .option('--commit <rev>', 'the commit to link (default: the source commit the run recorded)')
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', examples(['agentv results link 20261122-101500-k3f9qa', 'agentv results link 20261122-101500-k3f9qa --commit v1.2.0']))
    .action((runId: string, opts) => run(async (ctx) => (await handlers()).resultsLink(ctx, runId, opts)));
}
