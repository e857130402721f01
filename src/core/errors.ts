/**
 * An error in what the user gave us (a truncated file, a wrong format, an escaping external-data path), as opposed
 * to a bug. The CLI prints its message as one line and exits with code 2; the editor shows it in place of the view.
 * Messages name the file or value at fault and never include a stack trace.
 */
export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

export function isUserInputError(e: unknown): e is UserInputError {
  return e instanceof Error && e.name === 'UserInputError';
}
