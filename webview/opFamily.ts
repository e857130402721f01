/**
 * Op families, for colouring the graph. The colours themselves live in media/webview.css as VS Code chart
 * variables, so that light, dark and high-contrast themes all apply; the code only picks a class name.
 */
export type OpFamily =
  | 'conv'
  | 'linear'
  | 'norm'
  | 'activation'
  | 'pool'
  | 'elementwise'
  | 'shape'
  | 'attention'
  | 'reduce'
  | 'io'
  | 'scope'
  | 'other';

const FAMILIES: [OpFamily, RegExp][] = [
  ['conv', /^(Conv|ConvTranspose|ConvInteger|QLinearConv|DeformConv)$/],
  ['linear', /^(Gemm|MatMul|MatMulInteger|QLinearMatMul|Einsum)$/],
  ['norm', /(Normalization|^LRN$|^LpNormalization$)/],
  [
    'activation',
    /^(Relu|LeakyRelu|PRelu|Elu|Selu|Celu|Gelu|Sigmoid|HardSigmoid|HardSwish|Tanh|Softplus|Softsign|Mish|ThresholdedRelu|Clip)$/,
  ],
  ['pool', /Pool$|^(GlobalLpPool|MaxUnpool|MaxRoiPool|RoiAlign|Resize|Upsample)$/],
  ['attention', /^(Softmax|LogSoftmax|Hardmax|Attention|MultiHeadAttention)$/],
  ['reduce', /^(Reduce|ArgMax|ArgMin|TopK|CumSum)/],
  [
    'elementwise',
    /^(Add|Sub|Mul|Div|Pow|Sqrt|Exp|Log|Neg|Abs|Reciprocal|Erf|Sum|Mean|Max|Min|Where|Equal|Less|Greater|Not|And|Or|Cast|Dropout|Identity)$/,
  ],
  [
    'shape',
    /^(Reshape|Flatten|Transpose|Concat|Split|Slice|Gather|GatherElements|GatherND|Squeeze|Unsqueeze|Shape|Size|Expand|Tile|Pad|Constant|ConstantOfShape|Range|DepthToSpace|SpaceToDepth)$/,
  ],
];

export function opFamily(op: string): OpFamily {
  for (const [family, pattern] of FAMILIES) if (pattern.test(op)) return family;
  return 'other';
}
