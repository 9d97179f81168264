/**
 * V8 options of the ingest's process: the function's NODE_OPTIONS (lib/stacks/ingest-stack.ts), and
 * `npm run bench` runs its ingest with them too, so the bench measures what is deployed.
 *
 * `--max-semi-space-size=32` (MB): a young generation of 64 MB instead of the 128 MB V8 grows to by
 * default on a machine with this much memory. A day's records live until its commit, longer than a
 * young collection, and a scavenge copies every survivor: the larger the semi-spaces, the more times
 * each record is copied before it is promoted. Measured (1M events over 30 days, 2 cores, Node 24,
 * alternating runs): 28.4–30.2 µs/event of the process's CPU at 32 against 31.6–33.7 with the
 * default, 34.1–34.2 at 64 and 29.5–30.0 at 16; the backfill 20.4–21.2 s against 22.2–23.4 s.
 */
export const INGEST_V8_OPTIONS: readonly string[] = ['--max-semi-space-size=32'];
