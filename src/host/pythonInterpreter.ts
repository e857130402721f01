import * as vscode from 'vscode';

/** The Python extension's interpreter for this file when it is installed, else `layerscope.pythonPath`, else python3. */
export async function pythonInterpreter(uri: vscode.Uri): Promise<string> {
  const ext = vscode.extensions.getExtension('ms-python.python');
  if (ext) {
    try {
      const api = (ext.isActive ? ext.exports : await ext.activate()) as {
        environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string }; resolveEnvironment(p: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined> };
      };
      const env = api.environments;
      if (env) {
        const resolved = await env.resolveEnvironment(env.getActiveEnvironmentPath(uri));
        const exe = resolved?.executable.uri?.fsPath;
        if (exe) return exe;
      }
    } catch {
      // Fall through to the setting: the Python extension's API is optional.
    }
  }
  const configured = vscode.workspace.getConfiguration('layerscope', uri).get<string>('pythonPath', '').trim();
  return configured || 'python3';
}
