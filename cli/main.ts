// The agentv command line: the one registry of commands, flags and help. Each
// handler is an async function returning {exitCode, json}; only this file
// prints JSON documents and calls process.exit.
import { Command, CommanderError, Option } from 'commander';
import { AgentvError, classifyFault, exitCodeOf } from '../src/errors.js';
import { registerRemoteCommands } from './commands/remote.js';
import { makeContext, type CommandContext, type CommandResult, type Io } from './context.js';

declare const __AGENTV_VERSION__: string;
export const VERSION = typeof __AGENTV_VERSION__ === 'string' ? __AGENTV_VERSION__ : '0.0.0';

type Handler = (ctx: CommandContext) => Promise<CommandResult>;

const collect = (v: string, prev: string[] = []) => [...prev, v];

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

export function buildProgram(run: (h: Handler) => Promise<void>, io: Io, argv: string[] = []): Command {
  const program = new Command('agentv')
    // Set before subcommands are added: they copy these settings when created.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .description('Run evaluation suites against LLM and agent targets; keep every run in git (refs/agentv/runs/v1).')
    .version(VERSION, '-V, --version')
    .option('--repo <dir>', 'the git repository to use (default: the one containing the current folder)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', examples(['agentv eval fixtures/demo/suite.yaml', 'agentv runs list --limit 20', 'agentv studio --open']));

  const evalOptions = (cmd: Command) =>
    cmd
      .option('--target <name>', 'target: a name from .agentv/targets.yaml, or echo, mock, exec:<command>, openai:<model>')
      .option('--grader <name>', 'target that judges llm-rubric assertions')
      .option('--workers <n>', "tests run at once (default: the suite's evaluateOptions.maxConcurrency, else 4)")
      .option('--json', 'print the run summary as JSON on stdout')
      .option('--events <file>', 'also write the run\'s events as NDJSON to FILE, or to stdout with - (not with --json)')
      .option('--stop-grace <seconds>', 'on the first Ctrl+C/SIGTERM, how long in-flight tests may finish (default 10)')
      .option('--reuse', 'grade the newest earlier output of the same call (prompt, vars, target config) from the history instead of calling the target (default: .agentv/config.yaml eval.reuse)')
      .option('--no-reuse', 'always call the target, whatever .agentv/config.yaml says');

  evalOptions(
    program
      .command('eval <suite...>')
      .description('run suites into a new run (or continue one with --resume, --rerun-failed, --retry-errors)')
      .option('--run-id <id>', 'id for the new run (default: time-based)')
      .option('--test-id <id>', 'run only this test (repeatable)', collect)
      .option('--tag <tag>', 'run only tests with this tag (repeatable)', collect)
      .option('--resume [run_id]', 'continue a run in place: missing and errored tests (default: the newest resumable run of this suite and target)')
      .option('--rerun-failed [run_id]', 'continue a run in place: every test whose result is not ok (default: the newest such run of this suite and target)')
      .option('--retry-errors <run_id>', "new run carrying over the run's non-error rows; executes its errored and missing tests")
      .option('--accept-changed', 'with a resume mode: re-execute tests whose inputs changed, inside the run')
      .option('--shard <I/N>', 'execute slice I of N of one run (with --run-id ID, the same on every machine; or --resume ID to continue a slice): test T is in slice I when sha256(T) mod N = I-1')
      // Baselines from git (SPEC 3.8).
      .option('--baseline <rev>', "compare with the newest completed run of this suite and target at REV or its nearest first-parent ancestor that has one")
      .option('--fail-on-regression', 'with --baseline: exit 1 only when a test regressed or newly errors against the baseline')
      .option('--require-baseline', 'with --baseline: no baseline run found is an error (exit 2) instead of a warning')
      .option('--dry-run', 'load and plan only: print every test as agentv understood it (prompt, assertions, target, input hash); nothing runs or is written'),
  )
    .addHelpText(
      'after',
      examples([
        'agentv eval fixtures/demo/suite.yaml --target demo-agent',
        'agentv eval suite.yaml --target echo --workers 8 --json',
        'agentv eval suite.yaml --test-id greet --tag smoke',
        'agentv eval suite.yaml --resume                 # newest resumable run of this suite+target',
        'agentv eval suite.yaml --rerun-failed 20261122-101500-k3f9qa',
        'agentv eval suite.yaml --retry-errors 20261122-101500-k3f9qa',
        'agentv eval suite.yaml --baseline origin/main --fail-on-regression',
        'agentv eval suite.yaml --shard 2/4 --run-id ci-8812  # one of 4 machines filling run ci-8812',
        'agentv eval suite.yaml --resume ci-8812 --shard 2/4  # continue (or start) slice 2 of it',
        'agentv eval suite.yaml --reuse                  # call the target only for tests whose call changed',
        'agentv eval promptfooconfig.yaml --dry-run --json   # how agentv reads an imported suite',
      ]),
    )
    .action((suites: string[], opts) => {
      // `eval --resume suite.yaml`: an optional value that is really the suite.
      for (const key of ['resume', 'rerunFailed'] as const) {
        if (typeof opts[key] === 'string' && /\.ya?ml$/i.test(opts[key])) {
          suites.unshift(opts[key]);
          opts[key] = true;
        }
      }
      return run(async (ctx) => (await import('./commands/eval.js')).evalCommand(ctx, suites, opts, argv));
    });

  evalOptions(program.command('resume <run_id>').description("continue a run with the suite, target and options recorded in its manifest"))
    .option('--shard <I/N>', 'continue (or start) slice I of N of a sharded run')
    .option('--accept-changed', 're-execute tests whose inputs changed, inside the run')
    .addHelpText('after', examples(['agentv resume 20261122-101500-k3f9qa', 'agentv resume ci-8812 --shard 2/4   # one slice of a sharded run']))
    .action((runId: string, opts) => run(async (ctx) => (await import('./commands/eval.js')).resumeRun(ctx, runId, opts, argv)));

  program
    .command('regrade <run_id>')
    .description("grade a run's stored outputs again under its suite's current assertions, without calling the target")
    .option('--grader <name>', 'target that judges llm-rubric assertions (default: the one the run recorded)')
    .option('--workers <n>', 'tests graded at once (default: the run\'s, else 4)')
    .option('--json', 'print the run summary (as eval --json) plus regraded_count on stdout')
    .option('--events <file>', "also write the re-grade's events as NDJSON to FILE, or to stdout with - (not with --json)")
    .option('--stop-grace <seconds>', 'on the first Ctrl+C/SIGTERM, how long in-flight grading may finish (default 10)')
    .addHelpText(
      'after',
      `\nEvery test whose current row holds an output gets a new row with the same attempt and a\n` +
        `higher grade_seq; earlier verdicts stay as history (runs show --history). Target errors\n` +
        `have no output and stay as they are; tests whose prompt, vars or target changed are left\n` +
        `alone. The run keeps its status: a stopped run is re-graded where it has rows.\n` +
        examples([
          'agentv regrade 20261122-101500-k3f9qa',
          'agentv regrade 20261122-101500-k3f9qa --json',
          'agentv regrade 20261122-101500-k3f9qa --grader judge-gpt   # re-judge llm-rubric with another grader',
        ]),
    )
    .action((runId: string, opts) => run(async (ctx) => (await import('./commands/regrade.js')).regrade(ctx, runId, opts)));

  const runs = program
    .command('runs')
    .description('list and inspect runs')
    .addHelpText('after', examples(['agentv runs list --limit 20', 'agentv runs list --suite support-triage --status stopped', 'agentv runs show <RUN_ID> --json']));
  runs
    .command('list')
    .description('list runs, newest first or with --sort started_at oldest first (a table, or with --json the document of GET /api/runs)')
    .option('--limit <n>', 'runs per page (1-500)', '50')
    .option('--cursor <c>', 'continue after a previous page (its next_cursor)')
    .option('--suite <name>', 'only runs of this suite')
    .option('--target <name>', 'only runs against this target')
    .addOption(new Option('--status <s>', 'only runs with this status').choices(['running', 'completed', 'stopped', 'interrupted', 'failed']))
    .option('--commit <rev>', 'only runs of this source commit (sha prefix)')
    .addOption(new Option('--sort <order>', 'started_at: oldest first; -started_at: newest first').choices(['-started_at', 'started_at']).default('-started_at'))
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', examples(['agentv runs list', 'agentv runs list --suite demo --status completed --json', 'agentv runs list --sort started_at --limit 20']))
    .action((opts) => run(async (ctx) => (await import('./commands/runs.js')).runsList(ctx, opts)));
  runs
    .command('show <run_id>')
    .description('a run: header, aggregates and one row per test (or with --json the document of GET /api/runs/:run_id)')
    .option('--history', 'also superseded rows of re-executed tests')
    .option('--json', 'print JSON on stdout')
    .addOption(new Option('--format <format>', 'export the run to stdout').choices(['json', 'csv', 'junit', 'markdown']))
    .addHelpText(
      'after',
      examples([
        'agentv runs show 20261122-101500-k3f9qa',
        'agentv runs show 20261122-101500-k3f9qa --json --history',
        'agentv runs show 20261122-101500-k3f9qa --format junit > agentv-junit.xml',
        'agentv runs show 20261122-101500-k3f9qa --format markdown >> "$GITHUB_STEP_SUMMARY"',
      ]),
    )
    .action((runId: string, opts) => run(async (ctx) => (await import('./commands/runs-show.js')).runsShow(ctx, runId, opts)));
  // Comparing runs and reports (SPEC 3.8): runs diff, report.
  runs
    .command('diff <base> <head>')
    .description('compare two runs test by test: regressed, new_error, fixed, still_failing, unchanged, added, removed')
    .option('--json', 'print the comparison document on stdout')
    .addOption(new Option('--format <format>', 'print the comparison as Markdown (pull requests) or JUnit XML').choices(['markdown', 'junit']))
    .option('--fail-on-regression', 'exit 1 when a test regressed or newly errors')
    .addHelpText(
      'after',
      examples([
        'agentv runs diff 20261122-101500-k3f9qa 20261123-090000-x7p2mn',
        'agentv runs diff BASE HEAD --format markdown >> "$GITHUB_STEP_SUMMARY"',
        'agentv runs diff BASE HEAD --json --fail-on-regression',
      ]),
    )
    .action((base: string, head: string, opts) => run(async (ctx) => (await import('./commands/compare.js')).runsDiff(ctx, base, head, opts)));
  program
    .command('report <run_id>')
    .description('write one self-contained HTML file (no network) showing a run, and its comparison with --base')
    .option('--base <run_id>', 'also compare with this run')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .addHelpText('after', examples(['agentv report 20261123-090000-x7p2mn -o report.html', 'agentv report HEAD_RUN --base BASE_RUN -o report.html']))
    .action((runId: string, opts) => run(async (ctx) => (await import('./commands/report.js')).report(ctx, runId, opts)));

  const results = program
    .command('results')
    .description('maintain and share the results ref')
    .addHelpText('after', examples(['agentv results reindex --check', 'agentv results sync --remote origin', 'agentv results promote --to ../eval-results.git', 'agentv results link <RUN_ID>']));
  results
    .command('reindex')
    .description('rebuild the run index from the run manifests')
    .option('--check', 'only report drift between index and manifests (exit 1 if any)')
    .option('--json', 'print JSON on stdout')
    .addHelpText('after', examples(['agentv results reindex --check', 'agentv results reindex']))
    .action((opts) => run(async (ctx) => (await import('./commands/results.js')).resultsReindex(ctx, opts)));
  registerRemoteCommands(results, run);
  results
    .command('fsck')
    .description('check everything on the results ref (commits, trees, manifests, rows, index, incoming refs) and the local journals')
    .option('--repair', 'rebuild what is derivable (the index) and commit rows left in journals; never deletes rows')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', examples(['agentv results fsck', 'agentv results fsck --repair', 'agentv results fsck --json']))
    .action((opts) => run(async (ctx) => (await import('./commands/fsck.js')).resultsFsck(ctx, opts)));

  program
    .command('studio')
    .description('serve Studio: browse runs, launch, resume and stop them from the browser')
    .option('--port <port>', 'port to listen on', '3117')
    .option('--host <host>', 'address to bind (loopback by default)', '127.0.0.1')
    .option('--read-only', 'browse only: launching and stopping are refused')
    .option('--open', 'open Studio in the default browser')
    .addHelpText('after', examples(['agentv studio --open', 'agentv studio --port 8080 --read-only']))
    .action((opts) => run(async (ctx) => (await import('./commands/studio.js')).studio(ctx, opts)));

  return program;
}

/** Parse argv and run; resolves to the exit code. Tests call this in-process. */
export async function main({
  argv,
  cwd = process.cwd(),
  env = process.env,
  io,
}: {
  argv: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  io: Io;
}): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(async (handler) => {
    const ctx = makeContext({ cwd, repo: program.opts().repo, io, env });
    try {
      const result = await handler(ctx);
      if (result.json !== undefined) io.stdout(`${JSON.stringify(result.json, null, 2)}\n`);
      exitCode = result.exitCode;
    } finally {
      ctx.close();
    }
  }, io, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    // A full disk or an unwritable repository is said as such, never as a stack trace.
    const fault = classifyFault(e);
    if (fault instanceof AgentvError) {
      io.stderr(`agentv: ${fault.message}\n`);
      return exitCodeOf(fault);
    }
    io.stderr(`agentv: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const isEntry = process.argv[1] && /(?:^|[\\/])(cli\.js|agentv)$/.test(process.argv[1]);
if (isEntry) {
  // A closed pipe (`agentv eval ... | head`) must not kill a run: output is
  // dropped, the run goes on and finishes normally.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  const io: Io = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    isTTY: Boolean(process.stderr.isTTY),
  };
  main({ argv: process.argv.slice(2), io }).then((code) => {
    process.exitCode = code;
    // Let stdout drain before exiting (a large --json document may be in flight).
    process.stdout.write('', () => process.exit(code));
  });
}
