/** A failed request, said plainly: what could not be loaded, the API's error name and message. */
import { ApiFailure } from '../api';

export function Problem({ error, what }: { error: unknown; what: string }) {
  const detail =
    error instanceof ApiFailure
      ? `${error.type}: ${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return (
    <div class="problem" role="alert">
      <strong>Could not load {what}.</strong> <span>{detail}</span>
    </div>
  );
}
