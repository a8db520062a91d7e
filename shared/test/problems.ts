/** The problems a refused config or inventory lists, from the error type that carries them. */
export function refusalProblems<E extends Error & { readonly problems: string[] }>(
  parse: () => unknown,
  refusal: abstract new (...args: never[]) => E,
  what: string,
): string[] {
  try {
    parse();
  } catch (e) {
    if (e instanceof refusal) return e.problems;
    throw e;
  }
  throw new Error(`expected ${what} to be refused`);
}
