// The text diff of two outputs (part of the Compare page's chunk, so the diff
// library stays out of the first bundle). Words for short texts, lines for long
// ones (a word diff of long texts is slow and unreadable).
import { diffLines, diffWordsWithSpace } from 'diff';

export interface Part {
  value: string;
  added?: boolean;
  removed?: boolean;
}

export function textDiff(a: string, b: string): Part[] {
  return a.length + b.length > 20_000 ? diffLines(a, b) : diffWordsWithSpace(a, b);
}
