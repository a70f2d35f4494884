// `prompts:` as promptfoo reads them: inline templates, `{raw, label}` and `{id, label}`
// objects, and files — `file://x.txt` or a bare path, globs too. A .txt file holds one
// prompt or several separated by a `---` line; .md is one prompt; .json/.yaml hold chat
// messages (a list of {role, content}); .jsonl one chat per line. A string that names a
// prompt file which does not exist is an error, never sent as literal text.
import * as nodePath from 'node:path';
import type { LimitsConfig } from '../../schemas/limits.js';
import { CHAT_ROLES } from '../../schemas/suite.js';
import { checkTemplate } from '../template.js';
import type { ChatMessage } from '../types.js';
import { expandRef, isGlob, type Repo, type RepoPath } from './files.js';
import { formatPath, type LineOf, type PathSeg, type Problems } from './problems.js';
import { parseYaml, readLimitedFile, textOf } from './yaml-source.js';

/** A prompt template: text, or chat messages whose contents are templates. */
export type PromptTemplate = string | ChatMessage[];

export interface SuitePrompt {
  template: PromptTemplate;
  label?: string;
  /** Where it came from: the suite line, or the prompt file. */
  file: string;
  line?: number;
  /** A .json file that is JSON only once rendered (nunjucks tags around its messages): its rendered text is read as chat messages. */
  chatJson?: boolean;
}

const PROMPT_EXTS = new Set(['.txt', '.md', '.json', '.jsonl', '.yaml', '.yml', '.j2', '.njk', '.prompt']);
const CODE_EXTS = new Set(['.js', '.mjs', '.cjs', '.ts', '.py']);

/** True when an unprefixed string is meant as a file path rather than a template. */
function looksLikePath(s: string): boolean {
  if (/[\n{}]/.test(s) || /\s/.test(s.trim())) return false;
  const ext = nodePath.extname(s.replace(/:[\w.]+$/, '')).toLowerCase();
  return PROMPT_EXTS.has(ext) || CODE_EXTS.has(ext) || (isGlob(s) && s.includes('/'));
}

function isChat(v: unknown): v is ChatMessage[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((m) => m !== null && typeof m === 'object' && (CHAT_ROLES as readonly string[]).includes((m as ChatMessage).role) && typeof (m as ChatMessage).content === 'string')
  );
}

export async function readPrompts(o: {
  value: unknown;
  suite: RepoPath & { lineOf: LineOf };
  repo: Repo;
  limits: LimitsConfig;
  problems: Problems;
  bytes: Buffer[];
}): Promise<SuitePrompt[] | undefined> {
  const { value, suite, problems } = o;
  if (value === undefined) return undefined;
  const list = typeof value === 'string' || (value !== null && typeof value === 'object' && !Array.isArray(value)) ? [value] : value;
  const arrayForm = Array.isArray(value);
  if (!Array.isArray(list) || list.length === 0) {
    problems.add({ code: 'invalid', file: suite.rel, line: suite.lineOf(['prompts']), message: '`prompts` must be a template, a file, or a non-empty list of them' });
    return [];
  }
  const out: SuitePrompt[] = [];
  for (const [i, item] of list.entries()) {
    const at: PathSeg[] = arrayForm ? ['prompts', i] : ['prompts'];
    const line = suite.lineOf(at);
    const add = (message: string, code: 'invalid' | 'unsupported' | 'tests_file' = 'invalid') =>
      problems.add({ code, file: suite.rel, line, message: `${formatPath(at)}: ${message}` });
    let text: string | undefined;
    let label: string | undefined;
    let ref: string | undefined;
    if (typeof item === 'string') {
      if (item.startsWith('file://') || looksLikePath(item)) ref = item;
      else text = item;
    } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const obj = item as Record<string, unknown>;
      for (const k of Object.keys(obj)) if (!['raw', 'id', 'label', 'config', 'file', 'prompt'].includes(k)) add(`unknown key "${k}" in a prompt (raw, prompt, file, id, label are read)`);
      if (obj.config !== undefined) add('per-prompt `config` is not supported: set options on the provider instead', 'unsupported');
      label = typeof obj.label === 'string' ? obj.label : undefined;
      // The agentv CLI writes {id: <name>, file: <path>} or {id: <name>, prompt: <template>}; promptfoo {id: <path>} or {raw}.
      if (typeof obj.raw === 'string') text = obj.raw;
      else if (typeof obj.prompt === 'string') text = obj.prompt;
      else if (typeof obj.file === 'string') ref = obj.file;
      else if (typeof obj.id === 'string') ref = obj.id;
      else add('a prompt object needs `raw`/`prompt` (the template), or `file`/`id` (a prompt file)');
    } else {
      add('a prompt is a template string, a file (file://prompt.txt), or {raw|id, label}');
      continue;
    }
    if (text !== undefined) {
      for (const m of checkTemplate({ template: text })) add(m, 'unsupported');
      out.push({ template: text, ...(label ? { label } : {}), file: suite.rel, line });
      continue;
    }
    if (ref === undefined) continue;
    const bare = ref.replace(/^file:\/\//, '');
    const ext = nodePath.extname(bare.replace(/:[\w.]+$/, '')).toLowerCase();
    if (CODE_EXTS.has(ext)) {
      add(`prompts produced by code (${ref}) are not supported; write the prompt as a .txt, .md or .json file`, 'unsupported');
      continue;
    }
    const { files, escaped } = await expandRef(o.repo, nodePath.dirname(suite.abs), bare);
    if (escaped) {
      add(`prompt file ${ref} is outside the repository`);
      continue;
    }
    if (files.length === 0) {
      add(`no prompt file matches ${ref}`, 'tests_file');
      continue;
    }
    for (const f of files) {
      const bytes = await readLimitedFile({ abs: f.abs, file: f.rel, what: 'prompt file', problems, limits: o.limits, line, reportIn: suite.rel });
      if (!bytes) continue;
      o.bytes.push(bytes);
      out.push(...promptsOfFile({ text: textOf(bytes), file: f, label, problems, limits: o.limits }));
    }
  }
  return out;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function promptsOfFile(o: { text: string; file: RepoPath; label?: string; problems: Problems; limits: LimitsConfig }): SuitePrompt[] {
  const { text, file, problems } = o;
  const ext = nodePath.extname(file.abs).toLowerCase();
  const lab = (n: number, total: number) => (o.label ? { label: total > 1 ? `${o.label} ${n + 1}` : o.label } : {});
  const bad = (message: string, line?: number) => problems.add({ code: 'invalid', file: file.rel, line, message });
  const chat = (data: unknown, line?: number): SuitePrompt | null => {
    if (!isChat(data)) {
      bad('a chat prompt file holds a list of messages {role, content} (role: system, user, assistant or tool)', line);
      return null;
    }
    for (const [i, m] of data.entries()) for (const msg of checkTemplate({ template: m.content })) bad(`message ${i + 1}: ${msg}`, line);
    return { template: data.map((m) => ({ role: m.role, content: m.content })), file: file.rel, line };
  };
  // promptfoo renders a .json prompt as text and reads the result: `{% for %}` around messages.
  if (ext === '.json' && /\{[{%]/.test(text) && !parsesAsJson(text)) {
    for (const m of checkTemplate({ template: text })) problems.add({ code: 'unsupported', file: file.rel, line: 1, message: m });
    return [{ template: text, chatJson: true, ...lab(0, 1), file: file.rel, line: 1 }];
  }
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    const src = parseYaml({ text, file: file.rel, problems, limits: o.limits, code: ext === '.json' ? 'json_syntax' : 'yaml_syntax' });
    if (!src) return [];
    // A JSON/YAML file holding a string is a text prompt.
    if (typeof src.data === 'string') return [{ template: src.data, ...lab(0, 1), file: file.rel, line: 1 }];
    const p = chat(src.data, 1);
    return p ? [{ ...p, ...lab(0, 1) }] : [];
  }
  if (ext === '.jsonl') {
    const rows = text.split('\n').map((l, i) => ({ l, line: i + 1 })).filter((x) => x.l.trim() !== '');
    return rows.flatMap(({ l, line }, n) => {
      let data: unknown;
      try {
        data = JSON.parse(l);
      } catch (err) {
        problems.add({ code: 'json_syntax', file: file.rel, line, message: `invalid JSON: ${(err as Error).message}` });
        return [];
      }
      const p = chat(data, line);
      return p ? [{ ...p, ...lab(n, rows.length) }] : [];
    });
  }
  // Text: promptfoo separates several prompts in one .txt file with a line of `---`.
  const parts = (ext === '.txt' ? text.split(/\r?\n---\r?\n/) : [text]).map((p) => p.trim());
  let lineNo = 1;
  return parts.map((part, n) => {
    const line = lineNo;
    lineNo += part.split('\n').length + 1;
    for (const m of checkTemplate({ template: part })) problems.add({ code: 'unsupported', file: file.rel, line, message: m });
    return { template: part, ...lab(n, parts.length), file: file.rel, line };
  });
}
