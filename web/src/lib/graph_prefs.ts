// The workflow graph's view choices, remembered in this browser: layout direction and edge labels.
export type LayoutDirection = 'TB' | 'LR';

/** Above this many nodes, edge labels are off until the user turns them on: they crowd the drawing. */
export const EDGE_LABELS_MAX_NODES = 20;

const DIRECTION_KEY = 'junjo-graph-direction';
const EDGE_LABELS_KEY = 'junjo-graph-edge-labels';

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>;

export function storedDirection(storage: Storage): LayoutDirection {
  return storage.getItem(DIRECTION_KEY) === 'LR' ? 'LR' : 'TB';
}

export function storeDirection(storage: Storage, direction: LayoutDirection): void {
  storage.setItem(DIRECTION_KEY, direction);
}

/** The user's last choice, else on for graphs small enough to stay readable with them. */
export function edgeLabelsShown(storage: Storage, nodeCount: number): boolean {
  const stored = storage.getItem(EDGE_LABELS_KEY);
  return stored === null ? nodeCount <= EDGE_LABELS_MAX_NODES : stored === 'on';
}

export function storeEdgeLabels(storage: Storage, shown: boolean): void {
  storage.setItem(EDGE_LABELS_KEY, shown ? 'on' : 'off');
}
