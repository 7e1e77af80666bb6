/** WebSocket close codes, PROTOCOL.md. */
export const CloseCode = {
  /** Drain, or history lost under a live subscription: reconnect and resume with since. */
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  unauthorized: 4001,
  /** PROTOCOL.md v1.1: disconnected by the operator (`POST /v1/users/{user}/disconnect`); do not reconnect with the same token. */
  disconnected: 4003,
  slowConsumer: 4008,
  rateLimited: 4029,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];
