// Image references live in core (the server pins and routes them too); re-exported for the image store.
export { parseImageRef, pinned, isLoopbackRegistry } from '@tartarus/core';
export type { ImageRef } from '@tartarus/core';
