// promptfoo's `scenarios` (also the agentv CLI's): every `config` row crossed with every
// test of its scenario; vars, metadata and options merged (the test's win), assertions of
// the row first. Entries may be `file://` references or globs to YAML/JSON files holding a
// list of scenarios (or `{scenarios: [...]}`), read relative to the file that names them.
// A row with an `id` names the tests it makes, as the agentv CLI does: the row's id for
// a single test, else `<id>__scenario_test_<n>`; a test's own id wins.
import * as nodePath from 'node:path';
import type { LimitsConfig } from '../../schemas/limits.js';
import { expandRef, type Repo } from './files.js';
import type { LineOf, PathSeg, Problems } from './problems.js';
import type { RawTest } from './tests-files.js';
import { parseYaml, readLimitedFile, textOf } from './yaml-source.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined);

interface Where {
  file: string;
  lineOf: LineOf;
  at: PathSeg[];
}

export interface ScenarioCtx {
  repo: Repo;
  limits: LimitsConfig;
  problems: Problems;
  bytes: Buffer[];
}

/** The scenarios a list names, each with where it was written; file entries read and flattened. */
async function flatten(ctx: ScenarioCtx, value: unknown[], where: Where): Promise<{ s: Rec; w: Where }[]> {
  const out: { s: Rec; w: Where }[] = [];
  for (const [i, entry] of value.entries()) {
    const at = [...where.at, i];
    if (typeof entry !== 'string') {
      out.push({ s: rec(entry) ?? {}, w: { ...where, at } });
      continue;
    }
    const from = nodePath.dirname(nodePath.resolve(ctx.repo.repoDir, where.file));
    const { files, escaped } = await expandRef(ctx.repo, from, entry);
    if (escaped || files.length === 0) {
      ctx.problems.add({ code: escaped ? 'outside_repo' : 'tests_file', file: where.file, line: where.lineOf(at), message: `scenarios: ${entry} ${escaped ? 'is outside the repository' : 'matches no file'}` });
      continue;
    }
    for (const f of files) {
      const bytes = await readLimitedFile({ abs: f.abs, file: f.rel, what: 'scenarios file', problems: ctx.problems, limits: ctx.limits, line: where.lineOf(at), reportIn: where.file });
      if (!bytes) continue;
      ctx.bytes.push(bytes);
      const src = parseYaml({ text: textOf(bytes), file: f.rel, problems: ctx.problems, limits: ctx.limits, code: f.rel.endsWith('.json') ? 'json_syntax' : 'yaml_syntax' });
      if (!src) continue;
      const list = Array.isArray(src.data) ? src.data : rec(src.data)?.scenarios;
      const listAt: PathSeg[] = Array.isArray(src.data) ? [] : ['scenarios'];
      if (!Array.isArray(list)) {
        ctx.problems.add({ code: 'invalid', file: f.rel, line: 1, message: 'a scenarios file holds a list of scenarios, or {scenarios: [...]}' });
        continue;
      }
      list.forEach((s, j) => out.push({ s: rec(s) ?? {}, w: { file: f.rel, lineOf: src.lineOf, at: [...listAt, j] } }));
    }
  }
  return out;
}

const merge = (a: unknown, b: unknown): Rec | undefined => (rec(a) || rec(b) ? { ...rec(a), ...rec(b) } : undefined);

export async function scenarioTests(ctx: ScenarioCtx, value: unknown, where: { file: string; lineOf: LineOf }): Promise<RawTest[]> {
  if (!Array.isArray(value)) {
    ctx.problems.add({ code: 'invalid', file: where.file, line: where.lineOf(['scenarios']), message: 'scenarios is a list of {config: [...], tests: [...]} or file:// references' });
    return [];
  }
  const out: RawTest[] = [];
  let si = 0;
  for (const { s, w } of await flatten(ctx, value, { ...where, at: ['scenarios'] })) {
    si++;
    const { lineOf } = w;
    if (!Array.isArray(s.config) || !Array.isArray(s.tests)) {
      ctx.problems.add({ code: 'invalid', file: w.file, line: lineOf(w.at), message: 'a scenario needs `config` (a list of {vars, ...}) and `tests` (a list of tests)' });
      continue;
    }
    const tests = s.tests as unknown[];
    (s.config as unknown[]).forEach((cRaw, ci) => {
      const c = rec(cRaw) ?? {};
      tests.forEach((tRaw, ti) => {
        const t = rec(tRaw) ?? {};
        const tAt: PathSeg[] = [...w.at, 'tests', ti];
        const cAt: PathSeg[] = [...w.at, 'config', ci];
        const cv = rec(c.vars) ?? {};
        const tv = rec(t.vars) ?? {};
        const merged: Rec = { ...c, ...t, vars: { ...cv, ...tv } };
        for (const k of ['metadata', 'options']) {
          const m = merge(c[k], t[k]);
          if (m) merged[k] = m;
        }
        const asserts = [...((c.assert as unknown[]) ?? []), ...((t.assert as unknown[]) ?? [])];
        if (asserts.length) merged.assert = asserts;
        const ownId = typeof t.id === 'string' && t.id.trim() !== '';
        if (!ownId && typeof c.id === 'string' && c.id.trim() !== '') merged.id = tests.length > 1 ? `${c.id}__scenario_test_${ti + 1}` : c.id;
        const nc = ((c.assert as unknown[]) ?? []).length;
        out.push({
          raw: merged,
          file: w.file,
          // Each scenario entry is a conversation of its own (_conversation), as in promptfoo.
          scope: `scenario ${si}, config ${ci + 1}`,
          lineOf: (p) => {
            if (p[0] === 'vars' && typeof p[1] === 'string' && !(p[1] in tv) && p[1] in cv) return lineOf([...cAt, ...p]);
            if (p[0] === 'assert' && typeof p[1] === 'number') return p[1] < nc ? lineOf([...cAt, 'assert', p[1], ...p.slice(2)]) : lineOf([...tAt, 'assert', p[1] - nc, ...p.slice(2)]);
            if (p[0] === 'id' && !ownId) return lineOf([...cAt, 'id']);
            return lineOf([...tAt, ...p]);
          },
        });
      });
    });
  }
  return out;
}
