/** The YAML front end's limits on hostile input (the pre-scan and the loader share them). */

/** Most alias resolutions allowed while expanding a document (a real spec uses a handful). */
export const MAX_ALIAS_COUNT = 1000;

/** Most data nodes an expanded document may have; bounds time and memory whatever the aliases do. */
export const MAX_EXPANDED_NODES = 200_000;

/** Deepest nesting of collections accepted; real specs use under 10, and the checks after this recurse. */
export const MAX_DEPTH = 100;
