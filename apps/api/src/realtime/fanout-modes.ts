/** The sync fan-out strategies (see fanout.ts); a module of its own so configuration can name them. */
export const FANOUT_MODES = ["fast", "naive", "shared", "uncorked", "corked", "gathered"] as const;
export type FanoutMode = (typeof FANOUT_MODES)[number];
