import { layerParams } from './layers';
import type { LayerValue, ParamCount, ParamRef } from './values';

/**
 * Parameter totals of a module tree as PyTorch's `model.parameters()` and `model.buffers()` count them: every
 * parameter object once, however many modules hold it. A module registered twice (`[block] * 6`,
 * `nn.Sequential(shared, shared)`) and a tied weight (`self.head.weight = self.emb.weight`) count once; a parameter
 * replaced or removed after construction counts as what replaced it; requires_grad edits move values from trainable
 * to non-trainable. Buffers are the floating-point tensors of `model.buffers()`, persistent or not (BatchNorm's
 * running statistics, `register_buffer` tensors); integer buffers such as `num_batches_tracked` hold no weights and
 * are left out, as they always were.
 */

/** Total parameters of a layer tree, or null when any part is unknown. */
export function totalParams(root: LayerValue): ParamCount | null {
  const seen = new Set<LayerValue>();
  const refs: ParamRef[] = [];
  let params = 0;
  let trainable = 0;
  let buffers = 0;
  const visit = (layer: LayerValue): boolean => {
    if (seen.has(layer)) return true;
    seen.add(layer);
    if (layer.incomplete) return false;
    if ((layer.category === 'torch' || layer.torchType) && !layer.own) return false;
    if (layer.own) {
      let p = layer.own.params;
      let t = layer.own.trainable;
      const allFrozen = layer.frozen?.has('*') === true;
      const sizes = layer.replaced || (layer.frozen && !allFrozen) ? ownParamSizes(layer) : null;
      if (layer.replaced) {
        if (!sizes) return false;
        for (const [name, by] of layer.replaced) {
          const size = sizes.get(name);
          if (size === undefined) return false;
          p -= size;
          if (!allFrozen && !layer.frozen?.has(name)) t -= size;
          if (by && 'kind' in by) {
            if (!visit(by)) return false;
          } else if (by) refs.push(by);
        }
      }
      if (allFrozen) t = 0;
      else if (layer.frozen) {
        for (const name of layer.frozen) {
          if (layer.replaced?.has(name)) continue;
          const size = sizes?.get(name);
          if (size === undefined) return false;
          t -= size;
        }
      }
      params += p;
      trainable += t;
      buffers += layer.own.buffers;
    }
    for (const [, child] of layer.children) if (!visit(child)) return false;
    return true;
  };
  if (!visit(root)) return null;
  // A parameter tied in from a module outside the tree belongs to the tree once; one inside it is already counted.
  const counted = new Map<LayerValue, Set<string>>();
  for (const ref of refs) {
    if (seen.has(ref.owner)) {
      if (ref.owner.replaced?.has(ref.name)) return null;
      continue;
    }
    const names = counted.get(ref.owner) ?? new Set<string>();
    if (names.has(ref.name)) continue;
    names.add(ref.name);
    counted.set(ref.owner, names);
    const size = ownParamSizes(ref.owner)?.get(ref.name);
    if (size === undefined || ref.owner.incomplete) return null;
    params += size;
    if (!ref.owner.frozen?.has('*') && !ref.owner.frozen?.has(ref.name)) trainable += size;
  }
  return { params, trainable, buffers };
}

/** The first reason found in a tree for an unknown count. */
export function unknownReason(layer: LayerValue, seen = new Set<LayerValue>()): string | undefined {
  if (seen.has(layer)) return undefined;
  seen.add(layer);
  if (layer.incomplete) return layer.incomplete;
  if ((layer.category === 'torch' || layer.torchType) && !layer.own) return layer.reason ?? 'unknown';
  if (layer.replaced && !ownParamSizes(layer)) return `the parameters of ${layer.type} are replaced after construction, and Layerscope does not know their sizes one by one`;
  for (const [, child] of layer.children) {
    const r = unknownReason(child, seen);
    if (r) return r;
  }
  if (totalParams(layer) === null) return 'a replaced or frozen parameter whose size is not known statically';
  return undefined;
}

/**
 * The own parameters of a torch layer by PyTorch's names (`weight`, `bias`) with their sizes, or null for layer types
 * whose parameters are not listed here one by one. The sizes come from the layer's own formula (layers.ts): a bias is
 * what the count loses without it, and an affine norm's weight and bias are the same size. They add up to the count.
 */
export function ownParamSizes(layer: LayerValue): Map<string, number> | null {
  if (!layer.own) return null;
  const type = layer.torchType ?? layer.type;
  const total = layer.own.params;
  const sizes = new Map<string, number>();
  if (type === 'Parameter') return new Map([['*', total]]);
  if (total === 0) return sizes;
  if (/^(Linear|Bilinear|(Conv|ConvTranspose)[123]d)$/.test(type)) {
    const noBias = new Map(layer.args);
    noBias.set('bias', { kind: 'bool', value: false });
    const weight = layerParams(type, noBias).count?.params;
    if (weight === undefined) return null;
    sizes.set('weight', weight);
    if (total > weight) sizes.set('bias', total - weight);
    return sizes;
  }
  if (/^(BatchNorm[123]d|SyncBatchNorm|InstanceNorm[123]d|GroupNorm|LayerNorm)$/.test(type)) {
    const bias = layer.args.get('bias');
    if (type === 'LayerNorm' && bias?.kind === 'bool' && !bias.value) return new Map([['weight', total]]);
    if (total % 2 !== 0) return null;
    sizes.set('weight', total / 2);
    sizes.set('bias', total / 2);
    return sizes;
  }
  switch (type) {
    case 'Embedding':
    case 'EmbeddingBag':
    case 'PReLU':
      return new Map([['weight', total]]);
    default:
      return null;
  }
}
