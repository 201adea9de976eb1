/**
 * Runs an HTTP handler's work, turning one module's domain error into its HTTP exception; anything
 * else passes through unchanged (Nest answers it as it would).
 */
export function httpErrorsOf<E extends Error>(domainError: abstract new (...args: never[]) => E, toHttp: (error: E) => Error) {
  return async function withHttpErrors<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof domainError) throw toHttp(error);
      throw error;
    }
  };
}
