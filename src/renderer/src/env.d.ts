/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}


/** The app's version from package.json, set at build time (electron.vite.config.ts, vitest.config.ts). */
declare const __APP_VERSION__: string;
