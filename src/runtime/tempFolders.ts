import { rmSync } from 'node:fs';

/**
 * Temporary folders the runtime creates (probe copies of a model, in /dev/shm or the temp folder) are removed by their
 * owner's dispose; this is the net under it. A folder still registered when the process exits (a second Ctrl+C, an
 * uncaught error, process.exit) is removed then, so no failure path leaves one behind.
 */

const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

/** Registers `dir` for removal at exit and returns it. */
export function trackTempFolder(dir: string): string {
  if (!hooked) {
    process.on('exit', removeAll);
    hooked = true;
  }
  live.add(dir);
  return dir;
}

/** Removes a folder now and forgets it. */
export function removeTempFolder(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}
