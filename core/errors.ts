/**
 * Errors a user can cause and fix. The CLI prints their message as one line
 * (no stack trace) and exits 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
