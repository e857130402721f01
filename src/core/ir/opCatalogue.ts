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

/**
 * How an op's output positions depend on its input positions, which is what the receptive-field walk needs:
 * - 'window': a sliding kernel (convolutions and local pools), whose kernel, stride, padding and dilation grow the field;
 * - 'global': every output sees the whole spatial input (global pools);
 * - 'sequence': recurrent and attention blocks, where every step may see every other step;
 * - 'reduce': a reduction over the axes it is given; 'axis-mixing': every position along one axis sees the whole axis;
 * - 'metadata': outputs that describe a tensor (its shape, a constant) rather than hold its positions;
 * - 'pass-through': each output position depends only on the same position of its inputs (after broadcasting),
 *   including normalisations and casts, so fields pass through unchanged.
 * Ops with their own rule (Gemm, Reshape, Slice, Resize …) have no role here; analysis/receptiveField.ts handles each.
 */
export type SpatialRole = 'window' | 'global' | 'sequence' | 'reduce' | 'axis-mixing' | 'metadata' | 'pass-through';

const SPATIAL_ROLES: Record<SpatialRole, readonly string[]> = {
  window: ['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'ConvInteger', 'QLinearConv'],
  global: ['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'],
  sequence: ['LSTM', 'GRU', 'RNN', 'Attention', 'MultiHeadAttention'],
  reduce: [
    'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
    'ReduceLogSumExp', 'ReduceSumSquare',
  ],
  'axis-mixing': ['Softmax', 'LogSoftmax', 'Hardmax', 'ArgMax', 'ArgMin', 'TopK', 'CumSum'],
  metadata: ['Shape', 'Size', 'ConstantOfShape', 'Constant', 'Range', 'EyeLike', 'RandomNormalLike', 'RandomUniformLike'],
  'pass-through': [
    'Abs', 'Acos', 'Acosh', 'Add', 'And', 'Asin', 'Asinh', 'Atan', 'Atanh', 'BatchNormalization', 'BitShift', 'Cast',
    'CastLike', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh', 'DequantizeLinear', 'Div', 'Dropout', 'Elu', 'Equal', 'Erf',
    'Exp', 'Floor', 'Gelu', 'GreaterOrEqual', 'Greater', 'GroupNormalization', 'HardSigmoid', 'HardSwish', 'Identity',
    'InstanceNormalization', 'IsInf', 'IsNaN', 'LayerNormalization', 'LeakyRelu', 'LessOrEqual', 'Less', 'Log', 'LRN',
    'Max', 'Mean', 'MeanVarianceNormalization', 'Min', 'Mish', 'Mod', 'Mul', 'Neg', 'Not', 'Or', 'Pow', 'PRelu',
    'QuantizeLinear', 'Reciprocal', 'Relu', 'Round', 'Selu', 'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softplus',
    'Softsign', 'Sqrt', 'Sub', 'Sum', 'Tan', 'Tanh', 'ThresholdedRelu', 'Where', 'Xor', 'Expand', 'Tile',
    'RMSNormalization', 'SkipLayerNormalization', 'SimplifiedLayerNormalization', 'FastGelu', 'BiasGelu', 'QuickGelu',
  ],
};

const ROLE_OF = new Map<string, SpatialRole>();
for (const [role, ops] of Object.entries(SPATIAL_ROLES) as [SpatialRole, readonly string[]][]) {
  for (const op of ops) {
    // One role per op: the walk would otherwise depend on the order it asks in.
    if (ROLE_OF.has(op)) throw new Error(`op catalogue: ${op} is both ${ROLE_OF.get(op)} and ${role}`);
    ROLE_OF.set(op, role);
  }
}

/** The op's spatial role (above), or undefined for ops with a rule of their own and for unknown ops. */
export function spatialRole(op: string): SpatialRole | undefined {
  return ROLE_OF.get(op);
}

/**
 * Ops that do multiply-accumulates, the only ones analysis/macs.ts counts (every other op counts zero, as torchinfo
 * and the lecture notes count). Quantised models do the same multiply-accumulates in integers.
 */
const MAC_OPS: ReadonlySet<string> = new Set([
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN',
  'ConvInteger', 'QLinearConv', 'MatMulInteger', 'QLinearMatMul',
  'Einsum',
]);

export function countsMacs(op: string): boolean {
  return MAC_OPS.has(op);
}
