/**
 * A run's phase timeline as a chart: one bar per phase that happened, from the phase before it to
 * this one, in milliseconds since the run was queued (a Gantt chart of the latest attempt), and
 * the same as a table (`+ms` since queued, and the step), as `tartarus runs get` prints it.
 */
import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { RUN_PHASES } from '@tartarus/core/base';
import type { Run } from '@tartarus/sdk';

type Phases = Run['phases'];

/** One phase that happened: when, in ms since queued, and the step since the phase before it. */
export interface PhaseStep {
  label: string;
  /** Ms since queued. */
  atMs: number;
  /** Ms since the phase before (negative when the node's clock put it earlier). */
  stepMs: number;
  /** The bar: from the phase before to this one, in ms since queued, low end first. */
  range: [number, number];
}

/**
 * The phases that happened, in order, each from the previous one. `templateReadyAt` and
 * `firstOutputAt` are the node's clock, so a step can be slightly negative (first output
 * stamped before the server recorded the start); its bar then spans the gap the other way.
 */
export function phaseSteps(phases: Phases): PhaseStep[] {
  const first = Date.parse(phases.queuedAt);
  const steps: PhaseStep[] = [];
  let previous = 0;
  for (const [key, label] of RUN_PHASES) {
    const at = phases[key];
    if (!at) continue;
    const t = Date.parse(at) - first;
    steps.push({ label, atMs: t, stepMs: t - previous, range: [Math.min(previous, t), Math.max(previous, t)] });
    previous = t;
  }
  return steps;
}

const COLOURS = ['#8a94a6', '#5b8def', '#9b6cd9', '#2bb3a3', '#f0a23b', '#3aa55d', '#b0b7c3'];

/** The timeline chart and table of `phases`. */
export function PhaseTimeline({ phases }: { phases: Phases }) {
  const steps = phaseSteps(phases);
  const offset = new Map(steps.map((s) => [s.label, s]));
  return (
    <div className="card timeline" data-testid="phase-timeline">
      <h2>Phase timeline</h2>
      <ResponsiveContainer width="100%" height={36 + 28 * steps.length}>
        <BarChart data={steps} layout="vertical" margin={{ left: 10, right: 20 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" unit=" ms" domain={[0, 'dataMax']} allowDecimals={false} />
          <YAxis type="category" dataKey="label" width={110} />
          <Tooltip
            formatter={(_value, _name, item) => {
              const s = item.payload as PhaseStep;
              return [`+${s.atMs} ms (step ${s.stepMs} ms)`, 'since queued'];
            }}
          />
          <Bar dataKey="range" isAnimationActive={false}>
            {steps.map((s, i) => (
              <Cell key={s.label} fill={COLOURS[i % COLOURS.length]} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <table className="compact" data-testid="phase-table">
        <tbody>
          {RUN_PHASES.map(([key, label]) => {
            const s = offset.get(label);
            return (
              <tr key={key} data-testid={`phase-${key}`}>
                <th>{label}</th>
                <td>{s ? `+${s.atMs} ms` : '-'}</td>
                <td className="muted">{s && key !== 'queuedAt' ? `(${s.stepMs} ms)` : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
