/** Reads a JWT's claims without checking its signature: only for display and expiry, never for trust. */
export function readJwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `exp` (and `iat`) of a JWT in epoch ms, when the token is a JWT that has them. */
export function readJwtTimes(token: string): { expiresAt?: number; issuedAt?: number } {
  const claims = readJwtClaims(token);
  const times: { expiresAt?: number; issuedAt?: number } = {};
  if (typeof claims?.['exp'] === 'number') times.expiresAt = claims['exp'] * 1000;
  if (typeof claims?.['iat'] === 'number') times.issuedAt = claims['iat'] * 1000;
  return times;
}
