import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EDGE_LABELS_MAX_NODES,
  edgeLabelsShown,
  storeDirection,
  storedDirection,
  storeEdgeLabels,
} from './graph_prefs.ts';

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, v: string) => map.set(key, v),
  };
}

test('the layout is top-down until left-to-right is chosen, and the choice is remembered', () => {
  const storage = memoryStorage();
  assert.equal(storedDirection(storage), 'TB');
  storeDirection(storage, 'LR');
  assert.equal(storedDirection(storage), 'LR');
  storeDirection(storage, 'TB');
  assert.equal(storedDirection(storage), 'TB');
});

test('edge labels default to on for small graphs and off for large ones; a choice overrides both', () => {
  const storage = memoryStorage();
  assert.equal(edgeLabelsShown(storage, 11), true);
  assert.equal(edgeLabelsShown(storage, EDGE_LABELS_MAX_NODES), true);
  assert.equal(edgeLabelsShown(storage, EDGE_LABELS_MAX_NODES + 1), false);
  storeEdgeLabels(storage, false);
  assert.equal(edgeLabelsShown(storage, 11), false);
  storeEdgeLabels(storage, true);
  assert.equal(edgeLabelsShown(storage, 500), true);
});
