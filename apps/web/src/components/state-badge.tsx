/** A run's or sandbox's state as a coloured label. */
export function StateBadge({ state }: { state: string }) {
  return (
    <span className={`state state-${state}`} data-testid="state">
      {state}
    </span>
  );
}
