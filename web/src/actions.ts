/** Running a server call from a button: clear the last error, apply the returned status, keep the new error. */
import { useState } from 'react';

/**
 * Returns the last error and `act(f)`: it clears the error, runs `f`, passes a truthy result to
 * `apply` and keeps the message of a failure as the error.
 */
export function useStatusAction<T>(apply: (s: T) => void): { error: string | null; act: (f: () => Promise<T>) => void } {
  const [error, setError] = useState<string | null>(null);
  const act = (f: () => Promise<T>): void => {
    setError(null);
    f()
      .then((s) => s && apply(s))
      .catch((e: Error) => setError(e.message));
  };
  return { error, act };
}
