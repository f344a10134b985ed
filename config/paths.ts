// The repository's own cache folder (.cache/, ignored by git) for what is costly to make and the same for every data
// directory: the devnet's compiled contracts, the embedded PostgreSQL's migrated template. Found from the calling
// module's folder upwards, so it is the same folder whether the code runs from its sources or from dist/.

import { existsSync } from 'node:fs';
import path from 'node:path';

/** `.cache/<name>` next to the nearest package.json above `fromDir` (dist/ has none of its own). */
export function repoCacheDir(fromDir: string, name: string): string {
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, '.cache', name);
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${fromDir}: cannot place .cache/${name}`);
  }
}
