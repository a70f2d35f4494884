// The one way a page reports a failure: `data-testid="error"`, announced to screen readers.
export function ErrorBox({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div class="error" role="alert" data-testid="error">
      {message}
    </div>
  );
}
