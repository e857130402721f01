import { intTuple } from './layers';
import type { LayerValue, ParamCount, ParamRef, Value } from './values';

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

function int(args: Map<string, Value>, name: string): number | undefined {
  const v = args.get(name);
  if (v && v.kind === 'num' && v.isInt) return v.value;
  return undefined;
}

function flag(args: Map<string, Value>, name: string): boolean | undefined {
  const v = args.get(name);
  if (v && v.kind === 'bool') return v.value;
  if (v && v.kind === 'num') return v.value !== 0;
  if (v && v.kind === 'none') return false;
  return undefined;
}

/**
 * The own parameters of a torch layer by PyTorch's names (`weight`, `bias`) with their sizes, or null for layer types
 * whose parameters are not listed here one by one. The sizes always add up to the layer's own count.
 */
export function ownParamSizes(layer: LayerValue): Map<string, number> | null {
  if (!layer.own) return null;
  const type = layer.torchType ?? layer.type;
  const a = layer.args;
  const sizes = new Map<string, number>();
  const put = (name: string, size: number | undefined): boolean => {
    if (size === undefined || !Number.isFinite(size)) return false;
    sizes.set(name, size);
    return true;
  };
  let ok = true;
  try {
    switch (type) {
      case 'Parameter':
        ok = put('*', layer.own.params);
        break;
      case 'Linear': {
        const fin = int(a, 'in_features');
        const out = int(a, 'out_features');
        ok = fin !== undefined && out !== undefined && put('weight', fin * out) && (flag(a, 'bias') ? put('bias', out) : true);
        break;
      }
      case 'Conv1d':
      case 'Conv2d':
      case 'Conv3d':
      case 'ConvTranspose1d':
      case 'ConvTranspose2d':
      case 'ConvTranspose3d': {
        const n = Number(/([123])d$/.exec(type)![1]);
        const cin = int(a, 'in_channels');
        const cout = int(a, 'out_channels');
        const g = int(a, 'groups');
        if (cin === undefined || cout === undefined || !g) return null;
        const k = intTuple(a.get('kernel_size'), n, 'kernel_size').reduce((x, y) => x * y, 1);
        ok = put('weight', type.startsWith('ConvT') ? (cin * cout * k) / g : (cout * cin * k) / g) && (flag(a, 'bias') ? put('bias', cout) : true);
        break;
      }
      case 'BatchNorm1d':
      case 'BatchNorm2d':
      case 'BatchNorm3d':
      case 'SyncBatchNorm':
      case 'InstanceNorm1d':
      case 'InstanceNorm2d':
      case 'InstanceNorm3d':
      case 'GroupNorm': {
        const c = int(a, type === 'GroupNorm' ? 'num_channels' : 'num_features');
        ok = c !== undefined && (flag(a, 'affine') ? put('weight', c) && put('bias', c) : true);
        break;
      }
      case 'LayerNorm': {
        const e = layer.own.params;
        const affine = flag(a, 'elementwise_affine');
        ok = affine === false || (e % 2 === 0 && put('weight', e / 2) && put('bias', e / 2));
        break;
      }
      case 'Embedding':
      case 'EmbeddingBag':
      case 'PReLU':
        ok = put('weight', layer.own.params);
        break;
      default:
        return null;
    }
  } catch {
    return null;
  }
  if (!ok) return null;
  if (type !== 'Parameter' && [...sizes.values()].reduce((x, y) => x + y, 0) !== layer.own.params) return null;
  return sizes;
}
