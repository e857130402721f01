import type { SyntaxNode } from './syntax';

/**
 * The local names a block of statements may change: assignment and loop targets, and the receivers of in-place
 * method calls (`features.append(x)`, `layers.extend(…)`); and apart from them the attributes of `self` it changes
 * (`self.layers += […]`, `self.blocks.append(…)`). When the interpreter cannot follow a loop or an `if`, these
 * names no longer hold what they held before it, so they become unknown instead of keeping a value the code may
 * have replaced (a DenseNet block whose `features` list the skipped loop would have grown).
 */
const MUTATORS = new Set(['append', 'extend', 'insert', 'pop', 'remove', 'clear', 'update', 'add', 'add_', 'mul_', 'sub_', 'div_', 'copy_', 'zero_', 'fill_', 'setdefault', 'sort', 'reverse']);

export function namesWrittenIn(block: SyntaxNode): { names: Set<string>; selfAttrs: Set<string> } {
  const names = new Set<string>();
  const selfAttrs = new Set<string>();
  const addTargets = (t: SyntaxNode | null): void => {
    if (!t) return;
    if (t.type === 'identifier') names.add(t.text);
    else if (t.type === 'subscript' || t.type === 'attribute') {
      // `xs[i] = …` and `x.attr = …` change the object `xs` or `x` names.
      const obj = t.childForFieldName(t.type === 'subscript' ? 'value' : 'object');
      if (obj?.type === 'identifier' && obj.text !== 'self') names.add(obj.text);
      else if (obj?.type === 'identifier' && t.type === 'attribute') selfAttrs.add(t.childForFieldName('attribute')?.text ?? '');
      else if (obj?.type === 'attribute' && obj.childForFieldName('object')?.text === 'self') selfAttrs.add(obj.childForFieldName('attribute')?.text ?? '');
    } else for (const c of t.namedChildren) if (c) addTargets(c);
  };
  const visit = (n: SyntaxNode): void => {
    switch (n.type) {
      case 'function_definition':
      case 'class_definition':
      case 'lambda':
        return;
      case 'assignment':
      case 'augmented_assignment':
        addTargets(n.childForFieldName('left'));
        break;
      case 'for_statement':
        addTargets(n.childForFieldName('left'));
        break;
      case 'named_expression':
        addTargets(n.childForFieldName('name'));
        break;
      case 'call': {
        const f = n.childForFieldName('function');
        const obj = f?.type === 'attribute' ? f.childForFieldName('object') : null;
        const mutates = MUTATORS.has(f?.childForFieldName('attribute')?.text ?? '');
        if (mutates && obj?.type === 'identifier' && obj.text !== 'self') names.add(obj.text);
        else if (mutates && obj?.type === 'attribute' && obj.childForFieldName('object')?.text === 'self') selfAttrs.add(obj.childForFieldName('attribute')?.text ?? '');
        break;
      }
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(block);
  return { names, selfAttrs };
}
