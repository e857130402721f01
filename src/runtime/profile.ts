/**
 * Reading onnxruntime's profiling trace (Chrome trace-event JSON) for the nodes that ran on the CPU although a GPU
 * provider was chosen. Each node's kernel event carries `args.provider` ("CUDAExecutionProvider",
 * "CPUExecutionProvider", ...); session-level events carry none and are ignored.
 */

interface TraceEvent {
  cat?: string;
  name?: string;
  args?: { provider?: string; op_name?: string };
}

/** Event names are "<node name>_kernel_time" (older releases add "_fence_before"/"_fence_after" events too). */
function nodeNameOf(eventName: string): string {
  return eventName.replace(/_(kernel_time|fence_before|fence_after)$/, '');
}

/**
 * The nodes whose kernels ran on the CPU provider, in first-seen order, or an empty list when every node ran on the
 * chosen provider. Unparseable traces give an empty list: the fallback list is a hint, never a reason to fail a probe.
 */
export function cpuFallbackNodesFromTrace(traceJson: string): string[] {
  let events: unknown;
  try {
    events = JSON.parse(traceJson);
  } catch {
    return [];
  }
  const list = Array.isArray(events) ? events : Array.isArray((events as { traceEvents?: unknown })?.traceEvents) ? (events as { traceEvents: unknown[] }).traceEvents : [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of list) {
    const e = raw as TraceEvent;
    if (e.cat !== 'Node' || typeof e.name !== 'string') continue;
    const provider = e.args?.provider;
    if (provider !== 'CPUExecutionProvider') continue;
    const node = nodeNameOf(e.name);
    if (!seen.has(node)) {
      seen.add(node);
      out.push(node);
    }
  }
  return out;
}
