// Images: OCI and Docker images pulled from registries (or built from a Dockerfile) as templates.
export { ImageStore, progressOf } from './store.js';
export type { ImageStoreOptions, PullOptions, ImageInfo, BuildOptions } from './store.js';
export type { ImageRecord } from './layout.js';
export { parseImageRef, isLoopbackRegistry } from './reference.js';
export type { ImageRef } from './reference.js';
export { parseImageConfig, imageDefaults, resolveArgv, DOCKER_DEFAULT_PATH } from './config.js';
export type { ImageConfig, CommandOverrides } from './config.js';
export { registriesConf, checkRegistryOptions, parseRegistrySettings } from './registries.js';
export type { RegistryOptions, RegistryAuth } from './registries.js';
export { RegistryUnavailableError } from './skopeo.js';
export { collectImages, rootsInUse } from './gc.js';
export type { CollectOptions, Collection } from './gc.js';
