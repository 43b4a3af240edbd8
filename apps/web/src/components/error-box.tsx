/** An error as its message (every SDK error has one), never a blank page. */
import { UnauthenticatedError } from '@tartarus/sdk';

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return typeof e === 'string' ? e : JSON.stringify(e);
}

/** Shows `error` (nothing when there is none). */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      {messageOf(error)}
      {error instanceof UnauthenticatedError && ' — sign out and sign in with a valid key.'}
    </div>
  );
}
