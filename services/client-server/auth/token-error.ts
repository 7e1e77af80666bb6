/** A subscriber token that is not accepted; the message is the reason the client is told (`token expired`). */
export class TokenError extends Error {
  override name = 'TokenError';
}
