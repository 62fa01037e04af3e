// Types of node-runtime.mjs, which stays plain JavaScript: it must run on an old node before node_modules exists.
export declare const MIN_MAJOR: number;
export declare function isSupported(version: string): boolean;
export declare function cacheDir(env?: NodeJS.ProcessEnv): string;
export declare function manualAdvice(dir: string): string;
export declare function supportedNodeBinDir(opts?: { env?: NodeJS.ProcessEnv; current?: string; execPath?: string; log?: (message: string) => void }): string;
