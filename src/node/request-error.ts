/** An error meant for whoever asked: its message names the cause, `status` is the HTTP status it maps to. */
export class RequestError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export { errorMessage } from '../common/error-message';
