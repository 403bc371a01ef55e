/// <reference types="vite/client" />

declare module "*.vue" {
  import type { DefineComponent } from "vue";
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** The version of @vladmandic/human whose model files the build serves (vite.config.ts `define`). */
declare const __HUMAN_VERSION__: string;
/** The version of @tensorflow/tfjs-backend-wasm whose .wasm files the build serves. */
declare const __TFJS_WASM_VERSION__: string;
