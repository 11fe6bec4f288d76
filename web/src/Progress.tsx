/** A progress bar with a caption, as the processing run and the sequence show it. */
import type { ReactNode } from 'react';

export function ProgressBar({ done, total, testid, children }: { done: number; total: number; testid: string; children: ReactNode }) {
  return (
    <div className="progress" data-testid={testid}>
      <div className="bar" style={{ width: `${total ? (100 * done) / total : 0}%` }} />
      <span>{children}</span>
    </div>
  );
}
