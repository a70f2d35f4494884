// One run in an export format: the body and how to serve it.
import type { RunDetailResponse } from '../schemas/api.js';
import type { ExportFormat } from '../schemas/export.js';
import { runCsv } from './csv.js';
import { runJunit } from './junit.js';
import { runMarkdown } from './markdown.js';

export const EXPORT_TYPES: Record<ExportFormat, { contentType: string; ext: string }> = {
  json: { contentType: 'application/json; charset=utf-8', ext: 'json' },
  csv: { contentType: 'text/csv; charset=utf-8', ext: 'csv' },
  junit: { contentType: 'application/xml; charset=utf-8', ext: 'xml' },
  markdown: { contentType: 'text/markdown; charset=utf-8', ext: 'md' },
};

export function exportRun(detail: RunDetailResponse, format: ExportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(detail, null, 2)}\n`;
    case 'csv':
      return runCsv(detail);
    case 'junit':
      return runJunit(detail);
    case 'markdown':
      return runMarkdown(detail);
  }
}
