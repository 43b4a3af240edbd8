export { SnapshotStore } from './store.js';
