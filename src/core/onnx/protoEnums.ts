import type { AttributeType } from '../ir/types';

/** AttributeProto.AttributeType numbers from onnx.proto, indexed by the IR's attribute type names. */
export const ATTRIBUTE_TYPE_CODES: Readonly<Record<AttributeType, number>> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
  sparseTensor: 11,
  sparseTensors: 12,
  typeProto: 13,
  typeProtos: 14,
};

const BY_CODE = new Map<number, AttributeType>(
  Object.entries(ATTRIBUTE_TYPE_CODES).map(([name, code]) => [code, name as AttributeType]),
);

/** The IR name of an AttributeProto type code; undefined for UNDEFINED (0) and unknown codes. */
export function attributeTypeFromCode(code: number): AttributeType | undefined {
  return BY_CODE.get(code);
}
