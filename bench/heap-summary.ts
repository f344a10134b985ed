// Where the heap goes: writes a V8 heap snapshot and sums the objects' own sizes by kind (a class's instances,
// strings, bigints, heap numbers, typed-array backing stores are outside the V8 heap and not counted), so a
// memory benchmark can say what each resting order costs and in which objects. Taking and reading the snapshot
// needs several times the heap's size in memory: use it with a few hundred thousand orders, not millions.

import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapShare {
  readonly kind: string;
  readonly count: number;
  readonly bytes: number;
}

/** Kinds whose instances all share a name V8 gives by type, summed together. */
const BY_TYPE: Record<string, string> = {
  string: '(strings)',
  'concatenated string': '(strings)',
  'sliced string': '(strings)',
  number: '(heap numbers)',
  bigint: '(bigints)',
};

/** The `top` largest kinds by own size, largest first. */
export function heapSummary(top: number): HeapShare[] {
  const path = writeHeapSnapshot(join(tmpdir(), `heap-summary-${process.pid}.heapsnapshot`));
  try {
    const snap = JSON.parse(readFileSync(path, 'utf8')) as SnapshotFile;
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const width = fields.length;
    const typeAt = fields.indexOf('type');
    const nameAt = fields.indexOf('name');
    const sizeAt = fields.indexOf('self_size');
    const sums = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + typeAt]];
      const kind = BY_TYPE[type] ?? `${type} ${snap.strings[snap.nodes[i + nameAt]].slice(0, 60)}`;
      const sum = sums.get(kind) ?? { count: 0, bytes: 0 };
      sum.count++;
      sum.bytes += snap.nodes[i + sizeAt];
      sums.set(kind, sum);
    }
    return [...sums]
      .map(([kind, s]) => ({ kind, ...s }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top);
  } finally {
    rmSync(path, { force: true });
  }
}
