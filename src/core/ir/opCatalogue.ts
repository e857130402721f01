/**
 * The one op catalogue: every ONNX op type's category. The graph colours nodes by it (the colours themselves live in
 * media/webview.css as VS Code chart variables), the probe panel and the probe diagnostics take the 'activation'
 * category as "the activations" whose scale the lectures track across depth. 'io' and 'scope' are the graph's own
 * nodes (model inputs and outputs, collapsed scopes), never an op's.
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

/** Element-wise nonlinearities: their outputs are the activations that probes plot and diagnose. */
export function isActivationOp(op: string): boolean {
  return opFamily(op) === 'activation';
}
