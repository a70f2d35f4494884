// Walking every run directory on the ref (runs/<ab>/<cd>/<run_id>/): the
// rebuilds (run index, call index) and checks that must see every run.
import { MODE_DIR, type TreeEntry } from '../git/index.js';
import type { Store } from './store.js';

/** The run directories under runs/, one shard (runs/<ab>/<cd>) at a time, so a caller can read a shard's runs side by side. */
export async function* runDirShards(store: Store, tree: string): AsyncGenerator<TreeEntry[]> {
  for (const a of (await store.readTree(tree, 'runs')) ?? []) {
    if (a.mode !== MODE_DIR) continue;
    for (const b of await store.treeEntries(a.oid)) {
      if (b.mode === MODE_DIR) yield (await store.treeEntries(b.oid)).filter((e) => e.mode === MODE_DIR);
    }
  }
}
