import type { NtlApi } from '../../common/api';

declare global {
  interface Window {
    /** The desktop app's services, exposed by the preload; absent in the browser build. */
    ntl?: NtlApi;
  }
}
