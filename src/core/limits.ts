/**
 * Every cap that keeps a hostile or broken input from taking unbounded time or memory, in one place so that the CLI,
 * the editor, the README and the tests agree on them. A number in a file (a rank, an output count, a shape) never
 * drives an allocation past these; past one, the input is refused in one line or the value is unknown with a reason.
 */

/**
 * Graphs with more nodes than this are refused instead of analysed. Shape inference counts the nodes it visits,
 * model-local function bodies included at each call site it cannot reuse, against the same number.
 */
export const DEFAULT_MAX_NODES = 50_000;

/** The largest tensor rank static analysis builds a shape for; real models stay far below (ONNX Runtime: 8–16). */
export const MAX_RANK = 1024;

/** How many outputs or inputs an attribute (Split's num_outputs, Scan's num_scan_inputs) may claim. */
export const MAX_NODE_ARITY = 65_536;

/**
 * The largest Python source analysed or read (4 MiB, some 100,000 lines; a real model file is well under 1 MB):
 * parsing and evaluating grow with the text, and a larger file is almost certainly generated or hostile. Past it the
 * file is refused in one line.
 */
export const MAX_PYTHON_SOURCE_BYTES = 4 * 1024 * 1024;

/** The largest .npy input read, in bytes. The memory budget of a probe usually refuses first. */
export const MAX_NPY_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** The largest image file read, in bytes. */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

/** The most pixels a PNG or JPEG may declare before it is decoded (a decompression bomb declares far more). */
export const MAX_IMAGE_PIXELS = 100_000_000;
