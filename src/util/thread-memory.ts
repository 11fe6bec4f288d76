/**
 * Memory a thread keeps between the tasks of one kind (planes, buffers reused frame after frame), released when the
 * thread starts a task of another kind: a run's threads serve every step, so what one step kept must not stay for
 * the rest of the run. Each thread (and the main thread) has its own registry.
 */
const held = new Map<string, () => void>();
let current: unknown;

/** Register `release`, which drops the memory `owner` keeps in this thread (replaces the owner's earlier one). */
export function holdUntilTaskChange(owner: string, release: () => void): void {
  held.set(owner, release);
}

/** At the start of each task: a task of another kind than this thread's last one releases what is held. */
export function startingTask(kind: unknown): void {
  if (kind === current) return;
  current = kind;
  for (const release of held.values()) release();
  held.clear();
}
