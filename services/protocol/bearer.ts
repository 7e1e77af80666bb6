/** The credential of an `Authorization: Bearer <x>` header (both services, PROTOCOL.md Auth), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}
