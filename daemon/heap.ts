// V8 settings for a long-running daemon: a 1 MiB young generation and heap growth that favours size.
// With V8's defaults the heap of a daemon holding thousands of policies grows far beyond what it keeps
// alive before a full collection (bench/scheduler.ts: 10,000 policies peak at ~360 MB RSS, ~180 MB with
// these), at a cost of a few CPU seconds per day.
import v8 from 'node:v8';

export const DAEMON_V8_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'];

/**
 * Applies DAEMON_V8_FLAGS to this process; call it first thing (it affects what is allocated after).
 * The young generation is sized when the process starts: only the flags on node's command line (the #!
 * line of bin/obbackupd.js) shrink it, this is the best effort for `node bin/obbackupd.js`.
 */
export function tuneHeap(): void {
  for (const flag of DAEMON_V8_FLAGS) v8.setFlagsFromString(flag);
}
