"""Reads a candidate's source before anything of it runs, and names the cheats it can see.

A kernel needs little: NumPy or PyTorch for its arrays, Triton for its kernel, and a few pure
modules. Anything else (another library, the system, the interpreter's internals, names built
at run time) is refused, so what is left to check is small: library products and attention
calls, fallbacks, caches, lazy array types, other streams and threads, patched libraries and
timers, and lower precision. The runtime guards catch what hides from this."""

from __future__ import annotations

import ast
from dataclasses import dataclass

# What a kernel may import (and everything under it, but private parts).
ALLOWED_IMPORTS = ("numpy", "torch", "triton", "math", "typing", "dataclasses", "functools", "itertools", "__future__")
# Library calls that compute a matrix product or attention: the reference, or a stand-in for
# it. A name matches itself and everything under it.
REFERENCE_CALLS = (
    "numpy.matmul", "numpy.dot", "numpy.vdot", "numpy.inner", "numpy.einsum", "numpy.tensordot", "numpy.linalg",
    "numpy.matrix", "numpy.kron", "numpy.convolve", "numpy.correlate",
    "torch.matmul", "torch.mm", "torch.bmm", "torch.mv", "torch.addmm", "torch.addbmm", "torch.baddbmm", "torch.addmv",
    "torch.einsum", "torch.tensordot", "torch.chain_matmul", "torch.linalg", "torch.inner", "torch.ops",
    "torch.nn", "torch.sparse", "torch.backends.cudnn", "torch.Tensor.matmul", "torch.Tensor.mm", "torch.Tensor.bmm",
)
# Methods of arrays and tensors that compute a product (Triton's own `tl.dot` is the kernel's).
REFERENCE_METHODS = {"dot", "matmul", "mm", "bmm", "mv", "addmm", "baddbmm", "einsum", "tensordot", "vdot", "kron"}
KERNEL_LANGUAGE = "triton.language"
STREAMS = ("torch.cuda.Stream", "torch.cuda.stream", "torch.cuda.set_stream", "torch.cuda.ExternalStream",
           "torch.cuda.StreamContext", "torch.Stream", "torch.cuda.graph", "torch.cuda.CUDAGraph", "torch.multiprocessing")
THREAD_MODULES = ("threading", "_thread", "multiprocessing", "concurrent", "asyncio")
# Reaching these through another module (`torch.sys`, `np.os`) is reaching the interpreter.
SYSTEM_SEGMENTS = {"sys", "os", "gc", "inspect", "builtins", "importlib", "ctypes", "subprocess", "threading",
                   "multiprocessing", "pickle", "marshal", "operator", "types", "weakref", "atexit", "signal"}
DYNAMIC_BUILTINS = {"eval", "exec", "compile", "getattr", "setattr", "delattr", "vars", "globals", "locals", "dir",
                    "breakpoint", "open", "input", "memoryview", "object", "type", "super"}
PRECISION_NAMES = {"allow_tf32", "set_float32_matmul_precision", "allow_fp16_reduced_precision_reduction",
                   "allow_bf16_reduced_precision_reduction"}
TF32 = {"tf32", "tf32x3"}
CACHE_DECORATORS = {"lru_cache", "cache", "cached_property", "memoize"}
LAZY_HOOKS = {"__array__", "__array_ufunc__", "__array_function__", "__torch_function__", "__torch_dispatch__",
              "__array_interface__", "__cuda_array_interface__", "__getattr__", "__getattribute__"}
LAZY_BASES = ("numpy.ndarray", "torch.Tensor", "numpy.lib")


@dataclass(frozen=True)
class Finding:
    """A cheat seen in the source: its kind (the JSON's `cheat`), line and reason."""

    cheat: str
    line: int
    reason: str


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


class _Scanner(ast.NodeVisitor):
    def __init__(self, dtype: str):
        self.dtype = dtype
        self.aliases: dict[str, str] = {}  # local name -> module path it stands for
        self.findings: list[Finding] = []

    def flag(self, cheat: str, node: ast.AST, reason: str) -> None:
        self.findings.append(Finding(cheat, getattr(node, "lineno", 0), reason))

    def dotted(self, node: ast.AST) -> str | None:
        """The dotted path a name or attribute chain stands for, through import aliases."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def path_problem(self, path: str, node: ast.AST) -> bool:
        """Flags a module path a kernel must not reach; returns whether it did."""
        segments = path.split(".")
        if _within(path, REFERENCE_CALLS):
            self.flag("reference-library", node, f"uses `{path}`, a library implementation of the op")
        elif _within(path, STREAMS) or segments[0] in THREAD_MODULES:
            self.flag("stream-or-thread", node, f"uses `{path}`: work must run on the caller's stream and thread")
        elif segments[0] not in ALLOWED_IMPORTS:
            self.flag("dynamic-code", node, f"uses `{path}`: a kernel may import only {', '.join(ALLOWED_IMPORTS[:-1])}")
        elif any(segment.startswith("_") for segment in segments[1:]) or SYSTEM_SEGMENTS.intersection(segments[1:]):
            self.flag("dynamic-code", node, f"reaches `{path}`, the interpreter or a library's internals")
        else:
            return False
        return True

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.path_problem(alias.name, node)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                self.flag("dynamic-code", node, f"`from {module} import *` hides what the kernel calls")
                continue
            path = f"{module}.{alias.name}" if module else alias.name
            self.path_problem(path, node)
            self.aliases[alias.asname or alias.name] = path

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DYNAMIC_BUILTINS:
            self.flag("dynamic-code", node, f"uses `{node.id}`, which reaches code or objects the check cannot see")
        elif node.id.startswith("__") and node.id != "__name__":
            self.flag("dynamic-code", node, f"uses `{node.id}`, the interpreter's internals")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.dotted(node)
        if node.attr.startswith("__") and node.attr.endswith("__"):
            self.flag("dynamic-code", node, f"uses `.{node.attr}`, an object's internals")
        elif path is None or not self.path_problem(path, node):
            base = self.dotted(node.value)
            if node.attr in REFERENCE_METHODS and not (base and _within(base, (KERNEL_LANGUAGE,))):
                self.flag("reference-library", node, f"uses `.{node.attr}`, a library product")
        if node.attr in PRECISION_NAMES:
            self.flag("low-precision", node, f"touches `{node.attr}`: the claimed precision must be the one computed")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult):
            self.flag("reference-library", node, "uses the `@` operator, a library product")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.MatMult):
            self.flag("reference-library", node, "uses the `@=` operator, a library product")
        self.check_targets([node.target], node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.check_targets(node.targets, node)
        # A module bound to another name would hide what is done with it.
        if isinstance(node.value, (ast.Name, ast.Attribute)) and self.dotted(node.value) is not None:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases[target.id] = self.dotted(node.value)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.check_targets(node.targets, node)
        self.generic_visit(node)

    def check_targets(self, targets, node: ast.AST) -> None:
        for target in targets:
            if isinstance(target, ast.Attribute) and self.dotted(target.value) is not None:
                if target.attr not in PRECISION_NAMES:
                    self.flag("monkey-patch", node, f"assigns to `{self.dotted(target)}`: libraries and timers must stay as they are")

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") and node.args:
            target = self.dotted(node.args[0])
            if target is not None:
                self.flag("monkey-patch", node, f"calls `{node.func.id}` on `{target}`: libraries and timers must stay as they are")
        for keyword in node.keywords:
            if self.dtype == "fp32" and keyword.arg == "allow_tf32" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                self.flag("low-precision", keyword.value, "allows TF32 in an fp32 kernel")
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                text = argument.value.lower()
                if "cublas" in text or "cudnn" in text:
                    self.flag("reference-library", argument, "names cuBLAS or cuDNN")
                if self.dtype == "fp32" and text in TF32:
                    self.flag("low-precision", argument, f"asks for `{argument.value}` in an fp32 kernel")
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        imports_only = all(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in node.body)
        for handler in node.handlers:
            import_error = isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            if imports_only and import_error:
                continue
            if not all(isinstance(statement, ast.Raise) for statement in handler.body):
                self.flag("fallback", handler, "catches an exception and goes on: a failing kernel must fail, not fall back")
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def visit_Global(self, node: ast.Global) -> None:
        self.flag("caching", node, f"writes module state (`global {', '.join(node.names)}`) between calls")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.flag("caching", node, f"keeps state between calls (`nonlocal {', '.join(node.names)}`)")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        takes_arguments = bool(node.args.args or node.args.posonlyargs or node.args.kwonlyargs or node.args.vararg)
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in CACHE_DECORATORS and takes_arguments:
                self.flag("caching", decorator, f"caches results by their arguments with `@{name}`")
        for default in node.args.defaults + node.args.kw_defaults:
            mutable_call = isinstance(default, ast.Call) and getattr(default.func, "id", "") in ("dict", "list", "set")
            if isinstance(default, (ast.Dict, ast.List, ast.Set)) or mutable_call:
                self.flag("caching", default, f"`{node.name}` has a mutable default argument, a cache between calls")
        if node.name in LAZY_HOOKS:
            self.flag("lazy-tensor", node, f"defines `{node.name}`: results must be computed, not deferred")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            path = self.dotted(base)
            if path and _within(path, LAZY_BASES):
                self.flag("lazy-tensor", node, f"subclasses `{path}`: results must be computed, not deferred")
        self.generic_visit(node)


def scan(source: str, dtype: str) -> list[Finding]:
    """The cheats visible in a candidate's source, in line order (a syntax error is one too)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [Finding("syntax", error.lineno or 0, f"is not valid Python: {error.msg}")]
    scanner = _Scanner(dtype)
    scanner.visit(tree)
    unique = {(f.cheat, f.line, f.reason): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.cheat))
