/** The error a call is refused with; the test fails if the call succeeds. */
export async function refusal(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  throw new Error('the call succeeded');
}
