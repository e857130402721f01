import * as assert from 'node:assert/strict';
import { isUserInputError } from '../../../src/core/errors';
import { parseArgs, parseInputShape, parsePositiveInt } from '../../../src/cli/args';

function userError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isUserInputError(e) && pattern.test((e as Error).message) && !(e as Error).message.includes('\n'));
}

describe('cli/args', () => {
  it('parses flags, repeated values, --name=value and aliases', () => {
    const a = parseArgs(['m.onnx', '--json', '--input-shape', 'a=1x2', '--input-shape=b=3', '-h'], {
      flags: ['json', 'help'],
      values: ['input-shape'],
      aliases: { h: 'help' },
    });
    assert.deepEqual(a.positionals, ['m.onnx']);
    assert.ok(a.flags.has('json') && a.flags.has('help'));
    assert.deepEqual(a.values.get('input-shape'), ['a=1x2', 'b=3']);
  });

  it('refuses unknown options, missing values and values given to flags', () => {
    userError(() => parseArgs(['--jsn'], { flags: ['json'] }), /unknown option --jsn/);
    userError(() => parseArgs(['-x'], { flags: ['json'] }), /unknown option -x/);
    userError(() => parseArgs(['--input-shape'], { values: ['input-shape'] }), /needs a value/);
    userError(() => parseArgs(['--json=1'], { flags: ['json'] }), /takes no value/);
  });

  it('treats everything after -- as positional', () => {
    assert.deepEqual(parseArgs(['--', '--json'], { flags: ['json'] }).positionals, ['--json']);
  });

  it('parses input shapes with names, symbols and unknowns', () => {
    assert.deepEqual(parseInputShape('input=1x3x224x224'), { name: 'input', dims: [1, 3, 224, 224] });
    assert.deepEqual(parseInputShape('1,3,32,32'), { dims: [1, 3, 32, 32] });
    assert.deepEqual(parseInputShape('x=Nx3x?x7'), { name: 'x', dims: ['N', 3, null, 7] });
    assert.deepEqual(parseInputShape('input.1=2'), { name: 'input.1', dims: [2] });
  });

  it('refuses negative dims, dims of 2^53 or more, and garbage', () => {
    userError(() => parseInputShape('x=1x-3'), /negative/);
    userError(() => parseInputShape(`x=1x${2 ** 53}`), /2\^53/);
    userError(() => parseInputShape('x=1x3.5'), /not a dim/);
    userError(() => parseInputShape('x='), /no dims/);
    userError(() => parseInputShape('=1x2'), /empty input name/);
  });

  it('parses positive integers', () => {
    assert.equal(parsePositiveInt('max-nodes', '200000'), 200000);
    userError(() => parsePositiveInt('max-nodes', '0'), /positive integer/);
    userError(() => parsePositiveInt('max-nodes', 'lots'), /positive integer/);
  });
});
