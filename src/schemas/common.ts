// Primitive wire shapes shared by every other schema. Run ids are restricted so
// that they are safe in git paths, URLs and file names without escaping.
import { z } from 'zod';
import { RUN_ID_PATTERN, runIdPartsSafe } from './ids.js';

export { RUN_ID_PATTERN };

export const RunId = z
  .string()
  .regex(RUN_ID_PATTERN, 'a run id is 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit')
  .refine(runIdPartsSafe, 'a run id may not contain ".." or end in ".lock"');

export const Timestamp = z.string().min(1);

export const RunStatus = z.enum(['running', 'completed', 'stopped', 'interrupted', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

export const ExecutionStatus = z.enum(['ok', 'quality_failure', 'execution_error']);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;
