import * as vscode from 'vscode';

/**
 * The guard every command that runs the user's Python shares: it needs a Python document, and a trusted workspace,
 * because it executes the file. Returns false after telling the user, in one line, which of the two is missing.
 */
export function canRunPythonCommand(doc: vscode.TextDocument | undefined, title: string, isTrusted: boolean, what = 'the model'): doc is vscode.TextDocument {
  if (!doc || doc.languageId !== 'python') {
    void vscode.window.showInformationMessage(`Layerscope: open the Python file that defines ${what}, then run ${title}.`);
    return false;
  }
  if (!isTrusted) {
    void vscode.window.showWarningMessage(`Layerscope: ${title} runs your code, so it is available only in a trusted workspace.`);
    return false;
  }
  return true;
}
