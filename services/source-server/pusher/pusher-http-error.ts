/**
 * An answer of the Pusher HTTP API that is not 200: a status and a plain
 * text sentence, as Pusher's own API answers (pusher-http-node hands any
 * status ≥ 400 to the caller as `RequestError{status, body}`, so the body
 * is for people).
 */
export class PusherHttpError extends Error {
  override name = 'PusherHttpError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new PusherHttpError(400, message);
