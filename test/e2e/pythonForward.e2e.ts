import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from './codeServer';
import { openEditor, screenshotTest, type EditorSession } from './editorSession';
import { goToLine, quickOpen, waitForLens } from './workbench';

/**
 * Tensors in forward, as users reach them through the lenses of a real VS Code: forwardTensors.py (whose every shape
 * the unit suite checks against PyTorch's hooks) adds an nn.Parameter to its input, and builds attention with
 * einsum, a table looked up with a registered index buffer and a sliced mask buffer. The lenses of the layers after
 * them show the output shapes PyTorch computes: fc gets x [2, 1, 8] + p [1, 5, 8] = [2, 5, 8] and gives [2, 5, 3]
 * (it used to show [2, 1, 3]); out gets einsum's [1, 4, 2, 16, 8] and gives [1, 4, 2, 16, 3].
 */

const FILE = join(repoRoot, 'test', 'fixtures', 'python', 'semantics', 'forwardTensors.py');

describe('Tensors in forward in a real VS Code', function () {
  let session: EditorSession | undefined;
  let page: Page;
  let workspace: string;
  const lines = readFileSync(FILE, 'utf8').split('\n');
  /** The 1-based line of the first line containing `text` after the line containing `after`. */
  const lineOf = (after: string, text: string): number => {
    const from = lines.findIndex((l) => l.includes(after));
    return lines.findIndex((l, k) => k > from && l.includes(text)) + 1;
  };

  before(async function () {
    this.timeout(900_000);
    workspace = mkdtempSync(join(tmpdir(), 'layerscope-ws-forward-'));
    copyFileSync(FILE, join(workspace, 'forwardTensors.py'));
    session = await openEditor({ folder: workspace });
    page = session.page;
    await quickOpen(page, 'forwardTensors.py');
  });

  after(async function () {
    this.timeout(60_000);
    await session?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  afterEach(async function () {
    await screenshotTest(page, this.currentTest?.title, 'forward-');
  });

  it('shows the broadcast of a tensor with an nn.Parameter as PyTorch computes it', async function () {
    await goToLine(page, lineOf('class ParamBroadcast', 'self.fc = nn.Linear(8, 3)'));
    await waitForLens(page, '27 params · → 5×3');
  });

  it('shows the layer after einsum, a buffer lookup and a sliced mask with its exact shape', async function () {
    await goToLine(page, lineOf('class RelativeAttention', 'self.out = nn.Linear(8, 3)'));
    await waitForLens(page, '27 params · → 4×2×16×3');
  });
});
