import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ExactInterpreter, ExactResult, ExactTarget } from '../core/python/exact';

/**
 * The TypeScript side of exact mode: it runs src/runtime/python/layerscopeBridge.py with the user's interpreter in a
 * child process, keeps that process (and its imported torch) warm between requests, and bounds every request by a
 * timeout, a memory limit and a cancellation signal. A request that times out or is cancelled kills the process; the
 * next one starts a fresh one. The bridge executes the user's code, so only trusted callers may use it.
 */

export type BridgeErrorKind = 'no-interpreter' | 'no-torch' | 'timeout' | 'cancelled' | 'crashed' | 'syntax' | 'user-code' | 'input' | 'memory' | 'internal';

/** One line for the user; `file` and `line` (1-based) point into their code when the error came from there. */
export class PythonBridgeError extends Error {
  constructor(
    message: string,
    readonly kind: BridgeErrorKind,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'PythonBridgeError';
  }
}

export interface PythonBridgeOptions {
  /** The interpreter: the Python extension's for the file, `layerscope.pythonPath`, or `--python PATH`. */
  python: string;
  /** The address-space limit of the Python process (RLIMIT_AS); default 4096 MiB. 0 means none. */
  memoryLimitMB?: number;
  /** The working folder of the Python process (the workspace); the user's code may open files relative to it. */
  cwd?: string;
  /** Where layerscopeBridge.py is; found next to this bundle (dist/) or in src/runtime/python/ by default. */
  script?: string;
  /** Tests only: try the meta device even on PyTorch 1.x, where it fails, to exercise the fallback to the CPU. */
  tryMeta?: boolean;
}

export interface RequestOptions {
  /** Default 60 s, counted from the request, including the interpreter's start when it is not warm. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface InspectRequest {
  file: string;
  target: ExactTarget;
  inputShape?: number[] | null;
  /** Folders whose modules are the user's own (the workspace root); they go on sys.path and are re-imported each time. */
  roots?: string[];
}

export interface ExportRequest extends InspectRequest {
  inputShape: number[];
  /** A .pt/.pth state dict or a .safetensors file to load before exporting. */
  weights?: string;
  /** The ONNX file to write; the caller owns it and removes it. */
  output: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MEMORY_LIMIT_MB = 4096;

export function bridgeScriptPath(): string {
  const candidates = [path.join(__dirname, 'layerscopeBridge.py'), path.join(__dirname, 'python', 'layerscopeBridge.py'), path.join(__dirname, '..', 'src', 'runtime', 'python', 'layerscopeBridge.py')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

interface Pending {
  id: number;
  resolve(value: unknown): void;
  reject(error: PythonBridgeError): void;
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<ExactInterpreter>;
  pending: Pending | undefined;
  stderr: string;
  /** Rejects whatever waits on this process (its start, its request) with the error. */
  fail(error: PythonBridgeError): void;
}

export class PythonBridge {
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;

  constructor(readonly options: PythonBridgeOptions) {}

  /** PyTorch's parameter counts and per-submodule output shapes for a model built from the user's file. */
  inspect(request: InspectRequest, options: RequestOptions = {}): Promise<ExactResult> {
    return this.enqueue({ op: 'inspect', ...request }, options) as Promise<ExactResult>;
  }

  /** Exports the model (with the given trained weights) through torch.onnx.export to `request.output`. */
  async exportOnnx(request: ExportRequest, options: RequestOptions = {}): Promise<void> {
    await this.enqueue({ op: 'export', ...request }, options);
  }

  /** Starts the interpreter (if it is not running) and says what it is. */
  interpreter(options: RequestOptions = {}): Promise<ExactInterpreter> {
    return this.withLimits(() => this.start().ready, options);
  }

  /** True while a warm interpreter is running. */
  get warm(): boolean {
    return this.running !== undefined;
  }

  dispose(): void {
    this.stop(new PythonBridgeError('the Python bridge was closed', 'cancelled'));
  }

  private enqueue(message: Record<string, unknown>, options: RequestOptions): Promise<unknown> {
    // One request at a time: the process reads its stdin in order, and a timeout must kill only its own request.
    const run = this.queue.then(() => this.withLimits(() => this.send(message), options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private withLimits<T>(work: () => Promise<T>, options: RequestOptions): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      if (options.signal?.aborted) return reject(new PythonBridgeError('cancelled', 'cancelled'));
      const onAbort = (): void => this.stop(new PythonBridgeError('cancelled', 'cancelled'));
      const timer = setTimeout(() => this.stop(new PythonBridgeError(`PyTorch took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`, 'timeout')), timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      work().then(
        (v) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private async send(message: Record<string, unknown>): Promise<unknown> {
    const running = this.start();
    await running.ready;
    if (this.running !== running) throw new PythonBridgeError('the Python bridge stopped', 'crashed');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      running.pending = { id, resolve, reject };
      running.child.stdin.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  private start(): Running {
    if (this.running) return this.running;
    const script = this.options.script ?? bridgeScriptPath();
    const settings = { memoryLimitMB: this.options.memoryLimitMB ?? DEFAULT_MEMORY_LIMIT_MB, ...(this.options.tryMeta ? { tryMeta: true } : {}) };
    // -B and PYTHONDONTWRITEBYTECODE: importing the user's files must leave no __pycache__ in their folders.
    const child = spawn(this.options.python, ['-B', script, JSON.stringify(settings)], {
      cwd: this.options.cwd,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let readyResolve!: (i: ExactInterpreter) => void;
    let readyReject!: (e: PythonBridgeError) => void;
    const ready = new Promise<ExactInterpreter>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => undefined);
    const running: Running = { child, ready, pending: undefined, stderr: '', fail: () => undefined };
    this.running = running;
    let started = false;
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (!started) {
          started = true;
          if (message.ready === true) {
            readyResolve({ python: String(message.python), torch: String(message.torch), executable: String(message.executable), device: message.device === 'meta' ? 'meta' : 'cpu', memoryLimitMB: typeof message.memoryLimitMB === 'number' ? message.memoryLimitMB : null });
          } else {
            const error = new PythonBridgeError(`PyTorch is not installed for ${this.options.python} (${String(message.message ?? 'import torch failed')})`, 'no-torch');
            readyReject(error);
            this.stop(error);
          }
          continue;
        }
        const pending = running.pending;
        if (!pending || message.id !== pending.id) continue;
        running.pending = undefined;
        if (message.ok === true) pending.resolve(message.result);
        else {
          const e = (message.error ?? {}) as { message?: string; file?: string | null; line?: number | null; kind?: string };
          const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ''}: ` : '';
          pending.reject(new PythonBridgeError(`${where}${e.message ?? 'unknown error'}`, (e.kind as BridgeErrorKind) ?? 'internal', e.file ?? undefined, e.line ?? undefined));
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      // Only the tail matters for a crash message; a print loop in user code must not grow memory without bound.
      running.stderr = (running.stderr + chunk).slice(-8000);
    });
    child.stdin.on('error', () => undefined);
    const failed = (error: PythonBridgeError): void => {
      if (!started) {
        started = true;
        readyReject(error);
      }
      if (running.pending) {
        running.pending.reject(error);
        running.pending = undefined;
      }
      if (this.running === running) this.running = undefined;
    };
    running.fail = failed;
    child.on('error', (error) => failed(new PythonBridgeError(`cannot run ${this.options.python}: ${error.message}`, 'no-interpreter')));
    // 'close', not 'exit': only then has all of stderr been read, and its last line says why Python stopped (under load
    // 'exit' came first and the "No module named torch" line was not there yet).
    child.on('close', (code, signal) => {
      const last = running.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop();
      if (!started && last && /No module named '?torch'?/.test(last)) {
        // An interpreter that died importing torch before the bridge could report it (a wrapper script, say).
        failed(new PythonBridgeError(`PyTorch is not installed for ${this.options.python} (${last})`, 'no-torch'));
        return;
      }
      const how = signal === 'SIGKILL' ? 'was killed (out of memory?)' : `exited with ${signal ?? `code ${code ?? '?'}`}`;
      failed(new PythonBridgeError(`the Python process ${how}${last ? `: ${last}` : ''}`, 'crashed'));
    });
    return running;
  }

  private stop(error: PythonBridgeError): void {
    const running = this.running;
    if (!running) return;
    running.fail(error);
    running.child.kill('SIGKILL');
  }
}
