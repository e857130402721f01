import { strict as assert } from 'node:assert';
import { autoProviderOrder, isExecutionProviderChoice, providerAttempts, providerConfig } from '../../../src/runtime/providers';
import { cpuFallbackNodesFromTrace } from '../../../src/runtime/profile';

describe('runtime/providers', () => {
  it('tries providers in the platform order, always ending on the CPU', () => {
    assert.deepEqual(autoProviderOrder('linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(autoProviderOrder('win32'), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(autoProviderOrder('darwin'), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(providerAttempts('auto', 'linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(providerAttempts('cuda', 'darwin'), ['cuda']);
  });

  it('passes the device index only to providers that take one', () => {
    assert.deepEqual(providerConfig('cuda', 1), { name: 'cuda', deviceId: 1 });
    assert.deepEqual(providerConfig('dml', 2), { name: 'dml', deviceId: 2 });
    assert.deepEqual(providerConfig('webgpu', 1), { name: 'webgpu' });
    assert.ok(isExecutionProviderChoice('coreml'));
    assert.ok(!isExecutionProviderChoice('tensorrt'));
  });

  it('reads the CPU-fallback nodes from an onnxruntime profiling trace', () => {
    const node = (name: string, provider: string): object => ({
      cat: 'Node',
      name: `${name}_kernel_time`,
      ph: 'X',
      args: { op_name: 'X', provider },
    });
    const trace = JSON.stringify([
      { cat: 'Session', name: 'model_loading_uri', args: {} },
      node('/conv1/Conv', 'CUDAExecutionProvider'),
      node('/Shape', 'CPUExecutionProvider'),
      { cat: 'Node', name: '/Shape_fence_before', args: { provider: 'CPUExecutionProvider' } },
      node('/Gather', 'CPUExecutionProvider'),
      node('/Shape', 'CPUExecutionProvider'),
    ]);
    assert.deepEqual(cpuFallbackNodesFromTrace(trace), ['/Shape', '/Gather']);
    assert.deepEqual(cpuFallbackNodesFromTrace('not json'), []);
    assert.deepEqual(cpuFallbackNodesFromTrace(JSON.stringify({ traceEvents: [node('a', 'CPUExecutionProvider')] })), ['a']);
  });
});
