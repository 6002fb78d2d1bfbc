/**
 * V8 heap cap of a deployed stream processor, MiB. The processor's live heap stays around
 * 60–100 MiB (in-flight records are bounded by MAX_UNFLUSHED_BYTES and 4 × BATCH_MAX_RECORDS,
 * fetches by FETCH_MAX_BYTES_PER_PARTITION), but on a large machine V8 lets garbage pile up to
 * ~300 MiB between major collections. The Dockerfile sets it
 * (`NODE_OPTIONS=--max-old-space-size=…`; a test keeps the two equal) and the bench runs the
 * processor with it, so the RSS it reports is the deployed one.
 */
export const PROCESSOR_HEAP_MB = 128;

/** The node flag that applies PROCESSOR_HEAP_MB. */
export const PROCESSOR_HEAP_FLAG = `--max-old-space-size=${PROCESSOR_HEAP_MB}`;
