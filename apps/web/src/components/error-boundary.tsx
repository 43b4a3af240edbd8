/** Catches what a page throws while rendering, and shows it instead of an empty screen. */
import { Component, type ReactNode } from 'react';
import { ErrorBox } from './error-box';

interface Props {
  children: ReactNode;
  /** A new value (e.g. the path) clears a caught error. */
  resetKey: string;
}

/** React's error boundary (a class: hooks cannot catch render errors). */
export class ErrorBoundary extends Component<Props, { error: unknown; key: string }> {
  override state = { error: undefined as unknown, key: this.props.resetKey };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: { error: unknown; key: string }) {
    return props.resetKey === state.key ? null : { error: undefined, key: props.resetKey };
  }

  override render() {
    return this.state.error === undefined ? this.props.children : <ErrorBox error={this.state.error} />;
  }
}
