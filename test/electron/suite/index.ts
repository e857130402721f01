import Mocha from 'mocha';
import { extensionSuite } from './extension.test';

/** The entry point VS Code calls inside the extension host: runs the suite and rejects when a test failed. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: true });
  mocha.suite.emit('pre-require', globalThis, 'extension.test', mocha);
  extensionSuite();
  return new Promise((resolvePromise, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension tests failed`)) : resolvePromise()));
  });
}
