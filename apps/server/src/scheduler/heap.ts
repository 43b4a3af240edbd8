/**
 * A binary min-heap over an array, ordered by a caller's `before(a, b)`. Small and local rather
 * than a dependency: the planner needs only push, pop and "the top's key changed".
 */

/** Whether `a` must come out of the heap before `b`; must be a strict weak order. */
export type Before<T> = (a: T, b: T) => boolean;

/** A binary heap; `peek()` is the item that comes before every other. */
export class BinaryHeap<T> {
  readonly #items: T[];
  readonly #before: Before<T>;

  /** Builds a heap of `items` (copied, heapified in O(n)), ordered by `before`. */
  constructor(before: Before<T>, items: Iterable<T> = []) {
    this.#before = before;
    this.#items = [...items];
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  /** Items in the heap. */
  get size(): number {
    return this.#items.length;
  }

  /** The first item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds `item`, in O(log n). */
  push(item: T): void {
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  /** Removes and returns the first item, in O(log n); undefined when empty. */
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#down(0);
    }
    return top;
  }

  /**
   * Restores the order after the caller changed the first item's key in place, in O(log n):
   * cheaper than pop + push when the item stays in the heap.
   */
  updateTop(): void {
    if (this.#items.length > 1) this.#down(0);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i] as T;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as T;
      if (!this.#before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(items[right] as T, items[child] as T)) child = right;
      const c = items[child] as T;
      if (!this.#before(c, item)) break;
      items[i] = c;
      i = child;
    }
    items[i] = item;
  }
}
