/**
 * Cheap format matching on a file's first bytes, before any parsing (Netron's approach). It lets the reader reject a
 * NumPy array or a PyTorch checkpoint with a sentence that says what the file is, instead of a protobuf error.
 */

export type SniffedFormat =
  | 'onnx'
  | 'empty'
  | 'npy'
  | 'npz'
  | 'pytorch-zip'
  | 'zip'
  | 'pickle'
  | 'hdf5'
  | 'gzip'
  | 'tflite'
  | 'safetensors'
  | 'json'
  | 'text'
  | 'unknown';

export interface SniffResult {
  format: SniffedFormat;
  /** What the file is, phrased to follow "FILE is ...", for example "a NumPy .npy file". */
  description: string;
}

/**
 * Tags (field number * 8 + wire type) that a ModelProto can start with. Serialisers write fields in field-number
 * order, so real files start with ir_version (0x08), but any known ModelProto field is accepted.
 */
const MODEL_FIRST_TAGS = new Set([
  0x08, // ir_version
  0x12, // producer_name
  0x1a, // producer_version
  0x22, // domain
  0x28, // model_version
  0x32, // doc_string
  0x3a, // graph
  0x42, // opset_import
  0x72, // metadata_props
]);
/** Two-byte tags for ModelProto fields 20 (training_info), 25 (functions) and 26 (configuration). */
const MODEL_FIRST_TAGS_2 = new Set([0xa2 + 0x01 * 256, 0xca + 0x01 * 256, 0xd2 + 0x01 * 256]);

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[at + i] !== magic[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

function containsAscii(bytes: Uint8Array, s: string): boolean {
  const needle = ascii(s);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** True when the bytes look like human-readable text: no control characters other than whitespace. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return false;
    if (b === 0x7f) return false;
  }
  return true;
}

/** Identifies a file from its first bytes (a kilobyte is plenty). */
export function sniffModelFormat(head: Uint8Array): SniffResult {
  if (head.length === 0) return { format: 'empty', description: 'empty (0 bytes)' };
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return { format: 'npy', description: 'a NumPy .npy file, not an ONNX model' };
  if (startsWith(head, ascii('PK\x03\x04')) || startsWith(head, ascii('PK\x05\x06'))) {
    if (containsAscii(head, '.npy')) return { format: 'npz', description: 'a NumPy .npz archive, not an ONNX model' };
    if (containsAscii(head, 'data.pkl') || containsAscii(head, '.pkl') || containsAscii(head, '/data/')) {
      return {
        format: 'pytorch-zip',
        description: 'a PyTorch checkpoint (.pt/.pth), not an ONNX model; export it with torch.onnx.export, or open the model\'s Python source',
      };
    }
    return { format: 'zip', description: 'a zip archive, not an ONNX model' };
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 0x02 && head[1] <= 0x05) {
    return {
      format: 'pickle',
      description: 'a Python pickle (a legacy PyTorch checkpoint?), not an ONNX model; export it with torch.onnx.export',
    };
  }
  if (startsWith(head, [0x89, ...ascii('HDF\r\n\x1a\n')])) return { format: 'hdf5', description: 'an HDF5 (Keras .h5) file, not an ONNX model' };
  if (startsWith(head, [0x1f, 0x8b])) return { format: 'gzip', description: 'gzip-compressed; decompress it first' };
  if (startsWith(head, ascii('TFL3'), 4)) return { format: 'tflite', description: 'a TensorFlow Lite model, not an ONNX model' };
  if (head.length >= 9 && head[8] === 0x7b && head[5] === 0 && head[6] === 0 && head[7] === 0) {
    return { format: 'safetensors', description: 'a safetensors weights file, not an ONNX model' };
  }
  if (looksLikeText(head)) {
    const first = String.fromCharCode(...head.subarray(0, Math.min(head.length, 64))).trimStart();
    if (first.startsWith('{') || first.startsWith('[')) return { format: 'json', description: 'a JSON text file, not an ONNX model' };
    if (first.startsWith('<') || first.includes('ir_version')) {
      return { format: 'text', description: 'a text file (ONNX text format?), not a binary ONNX model' };
    }
    return { format: 'text', description: 'a text file, not an ONNX model' };
  }
  const tag2 = head.length >= 2 ? head[0] + head[1] * 256 : -1;
  if (MODEL_FIRST_TAGS.has(head[0]) || MODEL_FIRST_TAGS_2.has(tag2)) return { format: 'onnx', description: 'an ONNX model' };
  return { format: 'unknown', description: 'not an ONNX model (its first bytes match no known format)' };
}
