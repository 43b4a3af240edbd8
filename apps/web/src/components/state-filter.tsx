/** A select of states to filter a list by; the empty value means every state. */
export function StateFilter<S extends string>(props: {
  states: readonly S[];
  value: S | '';
  onChange(value: S | ''): void;
}) {
  return (
    <label className="filter">
      State{' '}
      <select
        data-testid="state-filter"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value as S | '')}
      >
        <option value="">all</option>
        {props.states.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </label>
  );
}
