export { readOnnxFile, readOnnxBytes, DEFAULT_INLINE_LIMIT_BYTES } from './reader';
export type { ReadOnnxFileOptions, ReadOnnxBytesOptions, ReadStats } from './reader';
export { writeOnnx, writeOnnxFile } from './writer';
export type { WriteOnnxOptions, WriteOnnxFileOptions, ExternalDataWriteOptions } from './writer';
export { readTensorBytes, readTensorValues, inlineTensor, pipeTensorBytes } from './tensorBytes';
export { sniffModelFormat } from './sniff';
export type { SniffResult, SniffedFormat } from './sniff';
export { MAX_GRAPH_DEPTH, INTEGER_INLINE_LIMIT_BYTES, expectedByteLength } from './decoder';
