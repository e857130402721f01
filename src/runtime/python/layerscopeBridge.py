"""Layerscope's exact mode: the user's own PyTorch answers what is in their model.

The extension and the CLI start this script with the user's interpreter and keep it running between requests, so
that `import torch` (seconds on a cold machine) is paid once. Requests and replies are JSON, one per line: requests
on stdin, replies on a private copy of the original stdout. The user's code may print; its stdout goes to stderr so
that it cannot corrupt the protocol.

The script never writes a file: bytecode writing is off, the user's file is imported under a private module name (so
its `if __name__ == "__main__":` block does not run), and the modules it imported from the user's folders are dropped
again after each request, so the next request sees the file as it is on disk then.
"""

import json
import os
import sys
import traceback

sys.dont_write_bytecode = True

PROTOCOL = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr

BRIDGE_FILE = os.path.abspath(__file__)


def send(message):
    PROTOCOL.write(json.dumps(message, allow_nan=False) + "\n")
    PROTOCOL.flush()


def limit_memory(megabytes):
    """Caps the address space, so that a model too large for the machine fails with MemoryError, not a frozen box."""
    if not megabytes:
        return None
    try:
        import resource
    except ImportError:  # Windows has no resource module; the host's timeout still bounds the run.
        return None
    limit = int(megabytes) * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and hard < limit:
        limit = hard
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit // (1024 * 1024)


class UserCodeError(Exception):
    """An error to report as one line, optionally pointing into the user's source."""

    def __init__(self, message, file=None, line=None, kind="user-code"):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.kind = kind


def package_root(path):
    """The folder above the outermost package that holds `path`, and the dotted package name (or '')."""
    folder = os.path.dirname(path)
    parts = []
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.insert(0, os.path.basename(folder))
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder, ".".join(parts)


_INSTALLED = []


def installed_roots():
    if _INSTALLED:
        return _INSTALLED
    import sysconfig

    paths = sysconfig.get_paths()
    _INSTALLED[:] = [os.path.abspath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths] + [os.path.abspath(p) for p in sys.path if p.rstrip(os.sep).endswith(("site-packages", "dist-packages"))]
    return _INSTALLED


def within(path, roots):
    if not path:
        return False
    path = os.path.abspath(path)
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def user_frame(tb, roots, main_file):
    """The innermost traceback frame in the user's own code: their file first, else their folders."""
    frames = [f for f in traceback.extract_tb(tb) if os.path.abspath(f.filename) != BRIDGE_FILE]
    for predicate in (lambda f: os.path.abspath(f.filename) == main_file, lambda f: within(f.filename, roots)):
        hits = [f for f in frames if predicate(f)]
        if hits:
            return hits[-1]
    return frames[-1] if frames else None


def describe(error):
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def as_user_error(error, tb, roots, main_file):
    if isinstance(error, UserCodeError):
        return error
    if isinstance(error, SyntaxError) and error.filename:
        return UserCodeError(f"SyntaxError: {error.msg}", os.path.abspath(error.filename), error.lineno, "syntax")
    if isinstance(error, MemoryError):
        return UserCodeError("MemoryError: the model needs more memory than layerscope.python.memoryLimitMB allows", kind="memory")
    frame = user_frame(tb, roots, main_file)
    if frame is None:
        return UserCodeError(describe(error))
    return UserCodeError(describe(error), os.path.abspath(frame.filename), frame.lineno)


def import_user_file(path, token):
    """Imports the file as a module under a private name inside its real package, so relative imports work."""
    import importlib.util

    root, package = package_root(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if package and within(path, installed_roots()):
        # An installed package's own file (torchvision's resnet.py) is imported under its real name: running it again
        # under another one would register its models twice, and installed code does not change between requests.
        return importlib.import_module(f"{package}.{stem}"), root
    private = f"__layerscope_{token}_{stem}__"
    name = f"{package}.{private}" if package else private
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"cannot import {path}", kind="input")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if package:
        importlib.import_module(package)
    spec.loader.exec_module(module)
    return module, root


def float_elements(tensors):
    return sum(t.numel() for t in tensors if t.is_floating_point())


def counts(module):
    seen = {}
    for p in module.parameters():
        seen[id(p)] = p
    params = sum(p.numel() for p in seen.values())
    trainable = sum(p.numel() for p in seen.values() if p.requires_grad)
    buffers = float_elements({id(b): b for b in module.buffers()}.values())
    return params, trainable, buffers


INSTALLED_SOURCES = {}


def source_of(cls):
    """The file and line of a class. inspect parses the whole module per call, so installed classes are remembered."""
    import inspect

    if cls in INSTALLED_SOURCES:
        return INSTALLED_SOURCES[cls]
    try:
        file = inspect.getsourcefile(cls)
        _, line = inspect.getsourcelines(cls)
        found = (os.path.abspath(file) if file else None), line
    except (TypeError, OSError):
        found = None, None
    if found[0] is not None and within(found[0], installed_roots()):
        INSTALLED_SOURCES[cls] = found
    return found


def shapes_of(value, out, depth=0):
    """Every tensor in a module's output, in order: tensors, tuples, lists, dicts and dataclass-like outputs."""
    import torch

    if len(out) >= 16 or depth > 4:
        return out
    if isinstance(value, torch.Tensor):
        out.append([int(d) for d in value.shape])
    elif isinstance(value, (tuple, list)):
        for v in value:
            shapes_of(v, out, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            shapes_of(v, out, depth + 1)
    return out


def build(module, target):
    import torch

    kind = target.get("kind")
    name = target.get("name")
    if kind == "variable":
        if not hasattr(module, name):
            raise UserCodeError(f"the file defines no '{name}'", kind="input")
        model = getattr(module, name)
    elif kind == "expression":
        model = eval(compile(target["expression"], module.__file__, "eval"), vars(module))
    else:
        if not hasattr(module, name):
            raise UserCodeError(f"the file defines no '{name}'", kind="input")
        model = getattr(module, name)
        # A class that the script itself instantiates at module level (`model = Net.from_config(cfg)`) is taken as the
        # script built it; otherwise a class or factory function is called with its defaults, and a module-level
        # instance is used as it is.
        if isinstance(model, type):
            built = [v for v in vars(module).values() if type(v) is model]
            if built:
                return built[-1]
        if not isinstance(model, torch.nn.Module) and callable(model):
            factory = model
            try:
                model = factory()
            except TypeError as error:
                # Raised by the call itself (no frame of the user's code below it): the class needs arguments.
                if error.__traceback__ is not None and error.__traceback__.tb_next is None:
                    file, line = source_of(factory) if isinstance(factory, type) else (None, None)
                    raise UserCodeError(f"{name}() cannot be built without arguments ({describe(error)}); verify the class that builds it, or a module-level instance", file, line, "input")
                raise
    if not isinstance(model, torch.nn.Module):
        raise UserCodeError(f"{target.get('expression') or name} is a {type(model).__name__}, not a torch.nn.Module", kind="input")
    return model


def takes_token_ids(model):
    """A model whose first layer is an embedding reads integer token ids, not floats."""
    import torch

    for _, sub in model.named_modules():
        if next(sub.children(), None) is None:
            return isinstance(sub, (torch.nn.Embedding, torch.nn.EmbeddingBag))
    return False


def report(model, input_shape, device, roots):
    import torch

    records = {}
    hooks = []
    for name, sub in model.named_modules():
        records[id(sub)] = {"calls": 0, "outputs": None}

        def hook(mod, inputs, output, key=id(sub)):
            r = records[key]
            r["calls"] += 1
            if r["outputs"] is None:
                r["outputs"] = shapes_of(output, [])

        hooks.append(sub.register_forward_hook(hook))
    output = None
    tokens = input_shape is not None and takes_token_ids(model)
    try:
        if input_shape is not None:
            model.eval()
            with torch.no_grad():
                if tokens:
                    x = torch.zeros(*input_shape, dtype=torch.long, device=device)
                elif device == "meta":
                    x = torch.empty(*input_shape, device="meta")
                else:
                    generator = torch.Generator().manual_seed(0)
                    x = torch.randn(*input_shape, generator=generator)
                output = model(x)
    finally:
        for h in hooks:
            h.remove()

    modules = []
    sources = {}
    for name, sub in model.named_modules():
        params, trainable, buffers = counts(sub)
        if type(sub) not in sources:
            sources[type(sub)] = source_of(type(sub))
        file, line = sources[type(sub)]
        r = records[id(sub)]
        modules.append({
            "name": name,
            "type": type(sub).__name__,
            "file": file,
            "line": line,
            "userCode": within(file, roots),
            "leaf": next(sub.children(), None) is None,
            "params": params,
            "trainable": trainable,
            "buffers": buffers,
            "calls": r["calls"],
            "outputShapes": r["outputs"],
        })
    params, trainable, buffers = counts(model)
    unique = list({id(t): t for t in list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]}.values())
    return {
        "paramBytes": sum(t.numel() * t.element_size() for t in unique),
        "params": params,
        "trainable": trainable,
        "buffers": buffers,
        "inputShape": input_shape,
        "inputDtype": "int64" if tokens else "float32",
        "outputShapes": shapes_of(output, []) if input_shape is not None else None,
        "modules": modules,
    }


def load_weights(path):
    """A state dict from a .pt/.pth file (plain, or inside a checkpoint dict) or a .safetensors file."""
    import torch

    if path.lower().endswith(".safetensors"):
        return read_safetensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # PyTorch before 1.13 has no weights_only.
        state = torch.load(path, map_location="cpu")
    except Exception as error:
        raise UserCodeError(f"{os.path.basename(path)}: cannot be read as PyTorch weights ({describe(error)})", kind="input")
    if isinstance(state, torch.nn.Module):
        return state.state_dict()
    if isinstance(state, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(state.get(key), dict):
                return state[key]
        return state
    raise UserCodeError(f"{os.path.basename(path)} holds a {type(state).__name__}, not a state dict", kind="input")


SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def read_safetensors(path):
    """The safetensors format read directly (8-byte header length, JSON header, raw little-endian data)."""
    import struct

    import torch

    try:
        from safetensors.torch import load_file

        return load_file(path)
    except ImportError:
        pass
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise UserCodeError(f"{os.path.basename(path)}: truncated safetensors file", kind="input")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise UserCodeError(f"{os.path.basename(path)}: its header is longer than the file", kind="input")
    header = json.loads(data[8 : 8 + size])
    body = data[8 + size :]
    state = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise UserCodeError(f"{os.path.basename(path)}: tensor {key} has dtype {info['dtype']}, which this reader does not know", kind="input")
        begin, end = info["data_offsets"]
        if not 0 <= begin <= end <= len(body):
            raise UserCodeError(f"{os.path.basename(path)}: tensor {key} lies outside the file", kind="input")
        chunk = bytearray(body[begin:end])
        tensor = torch.frombuffer(chunk, dtype=getattr(torch, dtype)) if end > begin else torch.empty(0, dtype=getattr(torch, dtype))
        state[key] = tensor.reshape(info["shape"]).clone()
    return state


def export(model, request):
    import torch

    weights = request.get("weights")
    if weights:
        state = load_weights(weights)
        result = model.load_state_dict(state, strict=False)
        problems = []
        if result.missing_keys:
            problems.append(f"missing {len(result.missing_keys)} ({', '.join(result.missing_keys[:3])})")
        if result.unexpected_keys:
            problems.append(f"unexpected {len(result.unexpected_keys)} ({', '.join(result.unexpected_keys[:3])})")
        if problems:
            raise UserCodeError(f"{os.path.basename(weights)} does not fit the model: keys {'; '.join(problems)}", kind="input")
    model.eval()
    x = torch.zeros(*request["inputShape"], dtype=torch.long if takes_token_ids(model) else torch.float32)
    torch.onnx.export(model, x, request["output"], input_names=["input"], output_names=["output"], opset_version=request.get("opset", 13), do_constant_folding=False)
    return {"output": request["output"], "weights": weights or None}


def handle(request, torch_major, counter):
    import torch

    path = os.path.abspath(request["file"])
    if not os.path.isfile(path):
        raise UserCodeError(f"{path}: no such file", kind="input")
    root, package = package_root(path)
    # The user's folders: their file's, its top package's and the workspace's. Modules imported from there are theirs,
    # and are dropped after the request so that the next one sees their edits; installed packages stay imported.
    top = os.path.join(root, package.split(".")[0]) if package else os.path.dirname(path)
    roots = [r for r in [os.path.dirname(path), top] + [os.path.abspath(r) for r in request.get("roots", [])] if not within(r, installed_roots())]
    added = [r for r in [os.path.dirname(path), root] + request.get("roots", []) if r not in sys.path]
    sys.path[:0] = added
    before = set(sys.modules)
    op = request.get("op", "inspect")

    def forget_user_modules():
        for name in set(sys.modules) - before:
            mod = sys.modules.get(name)
            file = getattr(mod, "__file__", None)
            if name.startswith("__layerscope_") or ".__layerscope_" in name or within(file, roots):
                del sys.modules[name]

    def attempt(device, token):
        # A training script may parse its command line at import (argparse with defaults): it sees just its own name.
        saved_argv = sys.argv
        sys.argv = [path]
        try:
            module, _ = import_user_file(path, token)
            model = build(module, request["target"])
            return report(model, request.get("inputShape"), device, roots) if op == "inspect" else export(model, request)
        finally:
            sys.argv = saved_argv

    def reported(error):
        if isinstance(error, KeyboardInterrupt):
            raise error
        return as_user_error(error, error.__traceback__, roots or [os.path.dirname(path)], path)

    try:
        # PyTorch 2 builds every tensor on the meta device: shapes without memory or time. Exports need real tensors.
        if (torch_major >= 2 or TRY_META) and op == "inspect":
            try:
                with torch.device("meta"):
                    result = attempt("meta", counter)
                result["device"] = "meta"
                return result
            except Exception as error:  # noqa: BLE001 — some models need real values (an .item(), a data-dependent branch).
                meta_error = reported(error)
                forget_user_modules()
            try:
                result = attempt("cpu", f"{counter}cpu")
            except BaseException as error:  # noqa: B902
                raise reported(error) from None
            result["device"] = "cpu"
            result["metaFallback"] = meta_error.message
            return result
        try:
            result = attempt("cpu", counter)
        except BaseException as error:  # noqa: B902 — SystemExit from user code must be reported, not end the bridge.
            raise reported(error) from None
        result["device"] = "cpu"
        return result
    finally:
        forget_user_modules()
        for r in added:
            if r in sys.path:
                sys.path.remove(r)


TRY_META = False


def main():
    global TRY_META
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    # For tests on PyTorch 1.x: try the meta device anyway, which fails there and so exercises the fallback to the CPU.
    TRY_META = bool(options.get("tryMeta"))
    memory = limit_memory(options.get("memoryLimitMB"))
    try:
        import torch
    except Exception as error:
        send({"ready": False, "kind": "no-torch", "message": describe(error), "python": sys.version.split()[0], "executable": sys.executable})
        return
    torch_major = int(torch.__version__.split(".")[0])
    send({"ready": True, "torch": torch.__version__, "python": sys.version.split()[0], "executable": sys.executable, "device": "meta" if torch_major >= 2 else "cpu", "memoryLimitMB": memory})
    counter = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        counter += 1
        request = json.loads(line)
        try:
            send({"id": request.get("id"), "ok": True, "result": handle(request, torch_major, counter)})
        except UserCodeError as error:
            send({"id": request.get("id"), "ok": False, "error": {"message": error.message, "file": error.file, "line": error.line, "kind": error.kind}})
        except Exception as error:  # A bug in this script: still one line, and the bridge lives on.
            send({"id": request.get("id"), "ok": False, "error": {"message": describe(error), "file": None, "line": None, "kind": "internal"}})


if __name__ == "__main__":
    main()
