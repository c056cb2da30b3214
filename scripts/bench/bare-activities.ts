/** The bare baseline's one activity: does nothing, so the baseline measures Temporal and the SDK alone. */
export function createBareActivities() {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await
    async bareStep(step: string, _payload: unknown): Promise<string> {
      return step;
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
