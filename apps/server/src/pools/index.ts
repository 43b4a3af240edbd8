/** The create-rate forecast of forecast-driven warm pools and its backtest (`@tartarus/server/pools`). */
export { HoltWinters, quantile, type Forecast, type Smoothing } from './forecast.js';
export { backtest, syntheticTrace, type BacktestResult, type TraceOptions } from './backtest.js';
