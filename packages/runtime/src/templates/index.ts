// Public surface of the template store.
export { TemplateStore } from './store.js';
export type { TemplateStoreOptions, EnsureOptions, TemplateListing } from './store.js';
export { DEFAULT_TEMPLATE_DIR, defaultTemplateDir } from './layout.js';
export { TEMPLATE_NAMES, isTemplateName, templateDefinition } from './catalog.js';
export type { TemplateDefinition, BuildContext, BuildResult } from './builder.js';
export { SANDBOX_UID, SANDBOX_HOME } from './skeleton.js';
