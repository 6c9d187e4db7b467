import type { NtlApi } from '../common/api';

declare global {
  interface Window {
    /** The main-process services, present in the desktop app (preload); absent in the browser build. */
    ntl?: NtlApi;
  }
}

export {};
