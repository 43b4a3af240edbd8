/**
 * Absolute path of the built dashboard (`index.html`, `app.js`, `app.css`), with a trailing
 * slash; the directory exists once `npm run build` (apps/web/build.mjs) has run.
 */
export declare const webDistDir: string;
