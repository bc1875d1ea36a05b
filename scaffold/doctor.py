"""`scaffold doctor`: find the classic training-loop mistakes in Python files without running them.

It reads each file's syntax tree (`ast`), follows calls between the file's own functions and
methods, and reports what it is sure of: where it cannot tell (a model built in another file, a
loader it cannot trace), it stays silent rather than guess. Each rule is one small function
over the facts collected by `Scope`; RULES holds the message and the one-line fix of each.
"""

from __future__ import annotations

import ast
import json
import re
import tokenize
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    name: str
    message: str
    fix: str


RULES = {
    "TL001": Rule(
        "no-zero-grad",
        "the loop calls backward() and step() but never clears the gradients, so they add up "
        "across batches",
        "call optimizer.zero_grad() once per step, inside the loop",
    ),
    "TL002": Rule(
        "activation-before-loss",
        "{activation} before {loss}, {why}",
        "{fix}",
    ),
    "TL003": Rule(
        "bce-on-raw-scores",
        "{loss} gets raw scores, but it expects probabilities in [0, 1]",
        "use nn.BCEWithLogitsLoss (or F.binary_cross_entropy_with_logits) on the raw scores",
    ),
    "TL004": Rule(
        "eval-in-train-mode",
        "this evaluation loop runs the model in training mode (dropout and batch norm still act "
        "as in training)",
        "call model.eval() before the loop (and model.train() before training again)",
    ),
    "TL005": Rule(
        "eval-without-no-grad",
        "this evaluation loop builds a graph for every batch (no torch.no_grad())",
        "wrap the loop in `with torch.no_grad():` (or torch.inference_mode())",
    ),
    "TL006": Rule(
        "batch-not-on-device",
        "'{name}' comes from the loader on the CPU, but the model was moved to a device",
        "move it first: {name} = {name}.to(device)",
    ),
    "TL007": Rule(
        "loss-kept-with-graph",
        "'{total}' keeps the loss tensor, and with it every batch's graph, alive",
        "add loss.item() (or loss.detach()) instead of the loss tensor",
    ),
    "TL008": Rule(
        "scheduler-before-optimizer",
        "scheduler.step() runs before optimizer.step(), so the first learning rate is skipped",
        "call scheduler.step() after optimizer.step() (per epoch: after the epoch's training)",
    ),
    "TL009": Rule(
        "scaler-fit-before-split",
        "'{name}' is split after a scaler learned from all of its rows: the test rows leak "
        "into training",
        "split first, fit the scaler on the training rows only, then transform every split",
    ),
    "TL010": Rule(
        "train-loader-not-shuffled",
        "the training DataLoader never shuffles, so every epoch sees the batches in one order",
        "pass shuffle=True (or a sampler) to the training DataLoader",
    ),
    "TL011": Rule(
        "forward-called-directly",
        "{call}(...) skips the module's hooks (and DDP's / AMP's wrappers)",
        "call the module itself: {short}(...)",
    ),
    "TL012": Rule(
        "torch-load-without-weights-only",
        "torch.load without weights_only= (before torch 2.6 it unpickles any code in the file)",
        "pass weights_only=True (store plain values, not pickled objects, in checkpoints)",
    ),
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    message: str
    fix: str

    def text(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message} — {self.fix}"


def finding(path: str, node: ast.AST, code: str, **words: str) -> Finding:
    rule = RULES[code]
    message, fix = rule.message.format(**words), rule.fix.format(**words)
    return Finding(path, node.lineno, node.col_offset + 1, code, message, fix)


# --- names --------------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
    "LBFGS", "SparseAdam", "ASGD", "Rprop", "Lion", "Adafactor", "Muon",
}  # fmt: skip
SCHEDULER_RE = re.compile(r"(LR|Scheduler|Plateau|Warmup\w*)$")
OPTIMIZER_NAME_RE = re.compile(r"^(opt|optim|optimizer|optimiser)(_\w+)?$|_(opt|optim|optimizer)$")
SCHEDULER_NAME_RE = re.compile(r"sched|lr_scheduler")
MODEL_NAME_RE = re.compile(
    r"^(model|net|network|classifier|clf|mlp|cnn|rnn|lstm|gru|encoder|decoder|regressor|"
    r"generator|discriminator|student|teacher)(_?\w*)$",
    re.I,
)
LOSS_FN_RE = re.compile(r"^(criterion|loss_fn|loss_func|lossfn|loss_function|objective|crit)\w*$")
EVAL_NAME_RE = re.compile(r"(^|_)(val|valid|validation|test|eval|evaluation|dev|holdout)(_|$|\d)")
EVAL_FUNCTION_RE = re.compile(
    r"(^|_)(val|valid|validate|validation|eval|evaluate)(_|$)|^test$|_test$|^test_(epoch|loop|step)"
)
TRAIN_NAME_RE = re.compile(r"(^|_)(train|training|trn)(_|$|\d)|^train")
LOADER_RE = re.compile(r"(loader|^dl$|^dl_|_dl$|batches$)", re.I)
SCALERS = {
    "StandardScaler", "MinMaxScaler", "RobustScaler", "MaxAbsScaler", "QuantileTransformer",
    "PowerTransformer", "PCA", "SimpleImputer", "KNNImputer", "TfidfVectorizer",
}  # fmt: skip
WRAPPED = {"module", "_module", "_c", "gm", "graph_module", "_orig_mod", "wrapped", "_wrapped"}
SHAPE_METHODS = {"squeeze", "unsqueeze", "view", "reshape", "flatten", "float", "contiguous"}
SPLITS = {"train_test_split", "random_split"}
LOSS_KINDS = {
    "CrossEntropyLoss": "CrossEntropyLoss", "cross_entropy": "CrossEntropyLoss",
    "NLLLoss": "NLLLoss", "nll_loss": "NLLLoss",
    "BCELoss": "BCELoss", "binary_cross_entropy": "BCELoss",
    "BCEWithLogitsLoss": "BCEWithLogitsLoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}  # fmt: skip
ACTIVATIONS = {
    "softmax": "softmax", "Softmax": "softmax", "sigmoid": "sigmoid", "Sigmoid": "sigmoid",
    "log_softmax": "log_softmax", "LogSoftmax": "log_softmax",
}  # fmt: skip
# The activation each loss must not get (it applies it itself, or expects something else).
WRONG_INPUT = {
    "CrossEntropyLoss": "softmax",
    "NLLLoss": "softmax",
    "BCEWithLogitsLoss": "sigmoid",
}


WHY = {
    "CrossEntropyLoss": {
        "why": "which applies log-softmax itself",
        "fix": "pass the raw scores (logits) to the loss; apply softmax only for predictions",
    },
    "BCEWithLogitsLoss": {
        "why": "which applies the sigmoid itself",
        "fix": "pass the raw scores (logits) to the loss; apply sigmoid only for predictions",
    },
    "NLLLoss": {
        "why": "which expects log-probabilities",
        "fix": "use log_softmax (nn.LogSoftmax), or nn.CrossEntropyLoss on the raw scores",
    },
}


def dotted(node: ast.AST | None) -> str:
    """`a.b.c` for Name/Attribute chains (calls in between become `()`), else ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    if isinstance(node, ast.Call):
        base = dotted(node.func)
        return f"{base}()" if base else ""
    return ""


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1].removesuffix("()")


def call_name(node: ast.AST) -> str:
    return dotted(node.func) if isinstance(node, ast.Call) else ""


def method_call(node: ast.AST, method: str) -> ast.AST | None:
    """The receiver of `receiver.method(...)`, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
    ):
        return node.func.value
    return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def has_star_kwargs(call: ast.Call) -> bool:
    return any(k.arg is None for k in call.keywords)


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in target_names(t)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def is_no_grad(item: ast.expr) -> bool:
    """`torch.no_grad()`, `torch.inference_mode()`, `torch.set_grad_enabled(False)`."""
    name = last(call_name(item))
    if name in ("no_grad", "inference_mode"):
        return not (isinstance(item, ast.Call) and item.args and is_false(item.args[0]))
    return (
        name == "set_grad_enabled"
        and isinstance(item, ast.Call)
        and is_false(item.args[0] if item.args else None)
    )


# --- what a file defines ------------------------------------------------------------------


@dataclass
class FileFacts:
    """Names whose kind is known from their assignment anywhere in the file."""

    tree: ast.Module
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    optimizers: set[str] = field(default_factory=set)
    schedulers: set[str] = field(default_factory=set)
    plateau: set[str] = field(default_factory=set)
    losses: dict[str, str] = field(default_factory=dict)  # name -> LOSS_KINDS value or ""
    models: dict[str, str] = field(default_factory=dict)  # name -> output activation or ""
    instances: dict[str, str] = field(default_factory=dict)  # name -> local class
    loaders: dict[str, ast.Call] = field(default_factory=dict)
    datasets: dict[str, ast.AST] = field(default_factory=dict)
    on_device: set[str] = field(default_factory=set)  # names assigned from .to(...)/.cuda()
    moved_model: bool = False
    cpu_names: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, tree: ast.Module) -> FileFacts:
        facts = cls(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                facts.classes[node.name] = node
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                facts.functions.setdefault(node.name, node)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if name := dotted(target):
                        facts.learn(name, node.value)
        facts.follow_devices()
        facts.moved_model = any(facts.is_model(ast.Name(n)) for n in facts.on_device)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                receiver = method_call(node, "to") or method_call(node, "cuda")
                if receiver is not None and facts.is_model(receiver) and facts.to_gpu(node):
                    facts.moved_model = True
        return facts

    def learn(self, name: str, value: ast.expr) -> None:
        core = value
        while (receiver := method_call(core, "to") or method_call(core, "cuda")) is not None:
            core = receiver  # Net().to(device): a Net (follow_devices notes the device)
        callee = last(call_name(core))
        if isinstance(core, ast.Call) and callee:
            if callee in OPTIMIZERS or ".optim." in call_name(core) + ".":
                self.optimizers.add(name)
            elif SCHEDULER_RE.search(callee) or "lr_scheduler" in call_name(core):
                self.schedulers.add(name)
                if "Plateau" in callee:
                    self.plateau.add(name)
            elif callee.endswith("Loss"):
                self.losses[name] = LOSS_KINDS.get(callee, "")
            elif callee in self.classes or callee in ("Sequential",):
                if callee in self.classes:
                    self.instances[name] = callee
                if callee == "Sequential" or self.is_module_class(callee):
                    self.models[name] = self.output_of(core)
            elif callee in self.functions:  # a local factory: def build_model(): return ...
                for node in ast.walk(self.functions[callee]):
                    built = node.value if isinstance(node, ast.Return) else None
                    built_name = last(call_name(built)) if built is not None else ""
                    if built_name == "Sequential" or self.is_module_class(built_name):
                        self.models[name] = self.output_of(built)
            elif callee == "DataLoader":
                self.loaders[name] = core
            elif "Dataset" in callee:
                self.datasets[name] = core
        if isinstance(value, ast.Constant) and value.value == "cpu":
            self.cpu_names.add(name)
        if callee == "device" and isinstance(core, ast.Call) and core.args:
            arg = core.args[0]
            if isinstance(arg, ast.Constant) and arg.value == "cpu":
                self.cpu_names.add(name)

    def follow_devices(self) -> None:
        """Names of tensors made on a device (`.to(device)`, `.cuda()`, `device=device`) or
        computed from such tensors (`X_train = X[:800]`), in source order."""
        assigns = sorted(
            (
                n
                for n in ast.walk(self.tree)
                if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None
            ),
            key=lambda n: n.lineno,
        )
        for node in assigns:
            placed = self.names_on_device(node.value) or names_in(node.value) & self.on_device
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names = target_names(target) or [dotted(target)]
                if placed:
                    self.on_device.update(n for n in names if n)

    def names_on_device(self, value: ast.expr) -> bool:
        for call in (n for n in ast.walk(value) if isinstance(n, ast.Call)):
            device = keyword(call, "device")
            if device is not None and self.to_gpu(ast.Call(call.func, [device], [])):
                return True
            if last(call_name(call)) in ("to", "cuda") and self.to_gpu(call):
                return True
        return False

    def sole_output(self) -> str:
        """What the file's model classes return, if they all return the same kind."""
        kinds = {
            self.output_of(ast.Call(ast.Name(name), [], []))
            for name in self.classes
            if self.is_module_class(name)
        }
        return kinds.pop() if len(kinds) == 1 else ""

    def is_module_class(self, name: str, seen: frozenset = frozenset()) -> bool:
        cls = self.classes.get(name)
        if cls is None or name in seen:
            return False
        for base in cls.bases:
            base_name = last(dotted(base))
            if base_name == "Module" or self.is_module_class(base_name, seen | {name}):
                return True
        return False

    def to_gpu(self, call: ast.Call) -> bool:
        """`.cuda()`, or `.to(x)` where x is not the CPU."""
        if isinstance(call.func, ast.Attribute) and call.func.attr == "cuda":
            return True
        arg = call.args[0] if call.args else keyword(call, "device")
        if arg is None:
            return False
        if isinstance(arg, ast.Constant):
            return isinstance(arg.value, str) and not arg.value.startswith("cpu")
        if isinstance(arg, ast.Name) and arg.id in self.cpu_names:
            return False
        return not (
            isinstance(arg, ast.Call)
            and arg.args
            and isinstance(arg.args[0], ast.Constant)
            and arg.args[0].value == "cpu"
        )

    def is_model(self, node: ast.AST) -> bool:
        name = dotted(node)
        if not name or name.endswith("()"):
            return False
        return name in self.models or bool(MODEL_NAME_RE.match(last(name)))

    def is_optimizer(self, node: ast.AST) -> bool:
        name = dotted(node)
        if name in self.schedulers or SCHEDULER_NAME_RE.search(last(name)):
            return False
        return name in self.optimizers or bool(OPTIMIZER_NAME_RE.search(last(name)))

    def is_scheduler(self, node: ast.AST) -> bool:
        name = dotted(node)
        return name in self.schedulers or bool(SCHEDULER_NAME_RE.search(last(name)))

    def loss_kind(self, call: ast.Call) -> str | None:
        """The loss a call computes ("" for other losses), or None if it is no loss call."""
        func = call.func
        if isinstance(func, ast.Call) and last(call_name(func)).endswith("Loss"):
            return LOSS_KINDS.get(last(call_name(func)), "")  # nn.CrossEntropyLoss()(x, y)
        name = dotted(func)
        if name in self.losses:
            return self.losses[name]
        if name.startswith(("F.", "torch.nn.functional.", "nn.functional.")):
            if last(name) in LOSS_KINDS:
                return LOSS_KINDS[last(name)]
            return "" if last(name).endswith("loss") else None
        return "" if name and LOSS_FN_RE.match(last(name)) else None

    # What a model returns: "softmax", "sigmoid", "log_softmax", "raw" (a Linear), or "".
    def output_of(self, build: ast.Call) -> str:
        name = last(call_name(build))
        if name == "Sequential":
            return self.layer_output(build.args[-1]) if build.args else ""
        cls = self.classes.get(name)
        if cls is None:
            return ""
        layers = self.layers(cls)
        forward = next(
            (f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "forward"), None
        )
        if forward is None:
            return ""
        kinds = {
            self.expression_output(r.value, forward, layers)
            for r in ast.walk(forward)
            if isinstance(r, ast.Return) and r.value is not None
        }
        return kinds.pop() if len(kinds) == 1 else ""

    def layers(self, cls: ast.ClassDef) -> dict[str, ast.expr]:
        found = {}
        for node in ast.walk(cls):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and dotted(target.value) == "self":
                        found[target.attr] = node.value
        return found

    def layer_output(self, layer: ast.expr) -> str:
        name = last(call_name(layer))
        if name in ACTIVATIONS:
            return ACTIVATIONS[name]
        if name == "Linear":
            return "raw"
        if name == "Sequential" and isinstance(layer, ast.Call) and layer.args:
            return self.layer_output(layer.args[-1])
        return ""

    def expression_output(
        self, expr: ast.expr, forward: ast.FunctionDef, layers: dict[str, ast.expr], depth: int = 0
    ) -> str:
        if depth > 5:
            return ""
        if isinstance(expr, ast.Call):
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr in ACTIVATIONS:
                return ACTIVATIONS[func.attr]  # torch.softmax(x), F.sigmoid(x), x.softmax(1)
            if isinstance(func, ast.Attribute) and func.attr in SHAPE_METHODS:
                return self.expression_output(func.value, forward, layers, depth + 1)
            if isinstance(func, ast.Attribute) and dotted(func.value) == "self":
                layer = layers.get(func.attr)
                return self.layer_output(layer) if layer is not None else ""
            if isinstance(func, ast.Name) and func.id in ACTIVATIONS:
                return ACTIVATIONS[func.id]
            return ""
        if isinstance(expr, ast.Name):
            value = None
            for node in ast.walk(forward):
                if isinstance(node, ast.Assign) and expr.id in [
                    n for t in node.targets for n in target_names(t)
                ]:
                    if value is not None:
                        return ""  # assigned more than once: cannot tell
                    value = node.value
            if value is None:
                return ""
            return self.expression_output(value, forward, layers, depth + 1)
        return ""


# --- events: what a scope does, in order, with the files' own calls followed ------------------


@dataclass(frozen=True)
class Event:
    kind: str  # zero, backward, step, sched, train, eval, model, new_model, split
    node: ast.AST
    loops: tuple[ast.AST, ...]
    no_grad: bool
    function: str  # the function the node is written in ("" = module level)
    detail: str = ""


class Scope:
    """The events of one entry point (the module body, or a function nobody in the file calls),
    in the order they run, with the bodies of the file's own functions it calls inlined."""

    MAX_DEPTH = 6

    def __init__(
        self, facts: FileFacts, body: list[ast.stmt], function: str, cls: str | None = None
    ) -> None:
        self.facts = facts
        self.events: list[Event] = []
        self.stack: list[str] = [f"{cls}.{function}" if cls else function]
        self.function = function
        self.walk_block(body, (), False, function, cls)

    def walk_block(
        self, body: list, loops: tuple, no_grad: bool, function: str, cls: str | None
    ) -> None:
        for stmt in body:
            self.walk_stmt(stmt, loops, no_grad, function, cls)

    def walk_stmt(
        self, stmt: ast.stmt, loops: tuple, no_grad: bool, function: str, cls: str | None
    ) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return  # run when called
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            head = stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.test
            self.walk_expr(head, loops, no_grad, function, cls)
            self.walk_block(stmt.body, loops + (stmt,), no_grad, function, cls)
            self.walk_block(stmt.orelse, loops, no_grad, function, cls)
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = no_grad or any(is_no_grad(item.context_expr) for item in stmt.items)
            for item in stmt.items:
                self.walk_expr(item.context_expr, loops, no_grad, function, cls)
            self.walk_block(stmt.body, loops, inner, function, cls)
            return
        if isinstance(stmt, ast.Expr) and is_no_grad(stmt.value):
            # torch.set_grad_enabled(False) as a statement: the rest of the scope
            self.walk_expr(stmt.value, loops, no_grad, function, cls)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                continue
            self.walk_expr(child, loops, no_grad, function, cls)
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "grad" for t in stmt.targets
        ):
            self.add("zero", stmt, loops, no_grad, function)  # p.grad = None
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
            if self.facts.is_model(stmt.targets[0]) or dotted(stmt.targets[0]) in self.facts.models:
                self.add("new_model", stmt, loops, no_grad, function)
        for field_name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(stmt, field_name, []) or []:
                if isinstance(child, ast.stmt):
                    self.walk_stmt(child, loops, no_grad, function, cls)
                else:  # except handlers, match cases
                    self.walk_block(child.body, loops, no_grad, function, cls)

    def add(
        self, kind: str, node: ast.AST, loops: tuple, no_grad: bool, function: str, detail=""
    ) -> None:
        self.events.append(Event(kind, node, loops, no_grad, function, detail))

    def walk_expr(
        self, expr: ast.AST, loops: tuple, no_grad: bool, function: str, cls: str | None
    ) -> None:
        # Calls in evaluation order: arguments before the call itself.
        calls = [n for n in ast.walk(expr) if isinstance(n, ast.Call)]
        calls.sort(key=lambda n: (n.end_lineno, n.end_col_offset))
        for call in calls:
            self.walk_call(call, loops, no_grad, function, cls)

    def walk_call(
        self, call: ast.Call, loops: tuple, no_grad: bool, function: str, cls: str | None
    ) -> None:
        facts, func = self.facts, call.func
        add = lambda kind, detail="": self.add(kind, call, loops, no_grad, function, detail)  # noqa
        if isinstance(func, ast.Attribute):
            receiver, method = func.value, func.attr
            if method == "zero_grad" or (method == "zero_" and dotted(receiver).endswith("grad")):
                return add("zero")
            if method == "backward":
                return add("backward")
            if method == "step" and facts.is_scheduler(receiver):
                plateau = dotted(receiver) in facts.plateau or bool(call.args or call.keywords)
                return add("sched", "plateau" if plateau else "")
            if method == "step" and (
                facts.is_optimizer(receiver) or "scaler" in last(dotted(receiver)).lower()
            ):
                for arg in call.args:  # LBFGS: optimizer.step(closure)
                    self.inline(dotted(arg), loops, no_grad, cls)
                return add("step")
            if method in ("train", "eval") and facts.is_model(receiver):
                off = call.args and is_false(call.args[0]) or is_false(keyword(call, "mode"))
                return add("eval" if method == "eval" or off else "train")
            if facts.is_model(func) or dotted(func) in facts.models:
                return add("model")
            if method == "forward" and facts.is_model(receiver):
                return add("model")
            owner = dotted(receiver)
            if owner == "self" and cls is not None:
                return self.inline(f"{cls}.{method}", loops, no_grad, cls)
            if isinstance(receiver, ast.Call) and last(call_name(receiver)) in facts.classes:
                klass = last(call_name(receiver))  # Trainer(...).fit()
                return self.inline(f"{klass}.{method}", loops, no_grad, klass)
            if owner in facts.instances:
                klass = facts.instances[owner]
                return self.inline(f"{klass}.{method}", loops, no_grad, klass)
            return None
        if isinstance(func, ast.Name):
            if facts.is_model(func):
                return add("model")
            if func.id in facts.functions:
                return self.inline(func.id, loops, no_grad, None)
        return None

    def inline(self, name: str, loops: tuple, no_grad: bool, cls: str | None) -> None:
        if "." in name:
            klass, method = name.split(".", 1)
            node = self.facts.classes.get(klass)
            body = next(
                (f for f in (node.body if node else []) if getattr(f, "name", None) == method),
                None,
            )
        else:
            body = self.facts.functions.get(name)
        if body is None or name in self.stack or len(self.stack) > self.MAX_DEPTH:
            return
        decorated = any(is_no_grad(d) or last(dotted(d)) in ("no_grad", "inference_mode")
                        for d in body.decorator_list)  # fmt: skip
        self.stack.append(name)
        self.walk_block(body.body, loops, no_grad or decorated, name, cls)
        self.stack.pop()


# --- the rules ----------------------------------------------------------------------------


def inside(event: Event, loop: ast.AST) -> bool:
    return loop in event.loops


def check_zero_grad(scope: Scope) -> Iterator[tuple[ast.AST, str, dict]]:
    events = scope.events
    for step in (e for e in events if e.kind == "step"):
        loops = [
            loop
            for loop in step.loops
            if any(e.kind == "backward" and inside(e, loop) for e in events)
        ]
        if not loops:
            continue
        loop = loops[-1]  # the innermost loop that also runs backward()
        if not any(e.kind == "zero" and inside(e, loop) for e in events):
            yield step.node, "TL001", {}


def check_scheduler_order(scope: Scope) -> Iterator[tuple[ast.AST, str, dict]]:
    events = scope.events
    steps = [i for i, e in enumerate(events) if e.kind == "step"]
    if not steps:
        return
    for i, sched in enumerate(events):
        if sched.kind != "sched" or sched.detail == "plateau":
            continue
        # The first optimizer step that shares the scheduler's loop (or any, at top level).
        shared = [loop for loop in sched.loops if any(inside(events[j], loop) for j in steps)]
        candidates = [j for j in steps if not shared or inside(events[j], shared[-1])]
        if candidates and i < candidates[0]:
            yield sched.node, "TL008", {}


def evaluation_loops(scope: Scope) -> dict[ast.AST, list[Event]]:
    """Loops that run the model and neither backward() nor step(): evaluation."""
    found: dict[ast.AST, list[Event]] = {}
    for event in scope.events:
        if event.kind == "model" and event.loops:
            found.setdefault(event.loops[-1], []).append(event)
    trains = [e for e in scope.events if e.kind in ("backward", "step")]
    return {
        loop: calls
        for loop, calls in found.items()
        if not any(inside(e, loop) for e in trains)
        and looks_like_evaluation(loop, calls[0].function)
    }


def looks_like_evaluation(loop: ast.AST, function: str) -> bool:
    if EVAL_FUNCTION_RE.search(last(function).lower()):
        return True
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        iterated = {last(dotted(n)).lower() for n in ast.walk(loop.iter)} - {""}
        return any(EVAL_NAME_RE.search(name) for name in iterated)
    return False


def check_evaluation(scope: Scope) -> Iterator[tuple[ast.AST, str, dict]]:
    events = scope.events
    for loop, calls in evaluation_loops(scope).items():
        first = events.index(calls[0])
        start = next(i for i, e in enumerate(events) if inside(e, loop))
        # Gradients on or off is the caller's choice, unless this scope trains too.
        trains = any(e.kind == "backward" for e in events)
        if not all(e.no_grad for e in calls) and (trains or not scope.function):
            yield loop, "TL005", {}
        mode = None
        for e in reversed(events[:start]):
            if e.kind in ("train", "eval"):
                mode = e.kind
                break
            if e.kind == "new_model":
                mode = "train"
                break
        if mode is None:  # the enclosing loops' later statements run before the next pass
            for outer in reversed(calls[0].loops[:-1]):
                tail = [e for e in events[first:] if inside(e, outer) and not inside(e, loop)]
                modes = [e.kind for e in tail if e.kind in ("train", "eval")]
                if modes:
                    mode = modes[-1]
                    break
        if mode is None and any(e.kind == "backward" for e in events[:start]):
            mode = "train"  # trained above, never switched: still in training mode
        if mode == "train":
            yield loop, "TL004", {}


def check_kept_loss(facts: FileFacts, function: ast.AST) -> Iterator[tuple[ast.AST, str, dict]]:
    """`total += loss` in a loop that also runs loss.backward()."""
    body = function.body
    for loop in (n for n in walk_scope(body) if isinstance(n, (ast.For, ast.While))):
        loop_nodes = list(walk_scope(loop.body))
        backward_of = {
            dotted(method_call(n, "backward"))
            for n in loop_nodes
            if method_call(n, "backward") is not None
        }
        if not backward_of:
            continue
        losses = set()
        for node in loop_nodes:
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Call, ast.BinOp)):
                calls = [c for c in ast.walk(node.value) if isinstance(c, ast.Call)]
                if any(facts.loss_kind(c) is not None for c in calls) and not any(
                    last(call_name(c)) in ("item", "detach", "float", "tolist") for c in calls
                ):
                    losses |= {dotted(t) for t in node.targets if isinstance(t, ast.Name)}
        losses |= {b for b in backward_of if b and "." not in b}
        for node in loop_nodes:
            total, value = None, None
            if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
                total, value = dotted(node.target), node.value
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.BinOp)
                and isinstance(node.value.op, ast.Add)
                and dotted(node.targets[0]) in names_in(node.value)
            ):
                total, value = dotted(node.targets[0]), node.value
            elif (receiver := method_call(node, "append")) is not None and node.args:
                total, value = dotted(receiver), node.args[0]
            if not total or value is None or total in backward_of or in_no_grad(node, body):
                continue
            if raw_names(value) & losses:
                yield node, "TL007", {"total": total}


def raw_names(expr: ast.AST) -> set[str]:
    """Names used as tensors, not through .item(), .detach(), float(), int()..."""
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.Call):
        if last(call_name(expr)) in ("item", "detach", "float", "int", "tolist", "numpy"):
            return set()
        if isinstance(expr.func, ast.Attribute):  # loss.sum(), loss.mean() keep the graph
            return raw_names(expr.func.value)
        return set()
    if isinstance(expr, ast.BinOp):
        return raw_names(expr.left) | raw_names(expr.right)
    if isinstance(expr, ast.UnaryOp):
        return raw_names(expr.operand)
    return set()


def in_no_grad(node: ast.AST, body: list[ast.stmt]) -> bool:
    for outer in walk_scope(body):
        if isinstance(outer, (ast.With, ast.AsyncWith)) and any(
            is_no_grad(i.context_expr) for i in outer.items
        ):
            if any(n is node for n in ast.walk(outer)):
                return True
    return False


def walk_scope(body: list[ast.stmt] | ast.AST) -> Iterator[ast.AST]:
    """Every node of a body, not entering nested functions or classes."""
    todo = list(reversed(body)) if isinstance(body, list) else [body]
    while todo:  # depth first, in source order
        node = todo.pop()
        yield node
        children = [
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        todo += reversed(children)


def check_activation_before_loss(
    facts: FileFacts, function: ast.AST
) -> Iterator[tuple[ast.AST, str, dict]]:
    assigned: dict[str, ast.expr] = {}
    for node in walk_scope(function.body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name in target_names(target):
                    assigned[name] = node.value if isinstance(target, ast.Name) else None
        if not isinstance(node, ast.Call) or not node.args:
            continue
        kind = facts.loss_kind(node)
        if not kind:
            continue
        activation = activation_of(facts, node.args[0], assigned)
        if kind in WRONG_INPUT and activation == WRONG_INPUT[kind]:
            yield node, "TL002", {"activation": activation, "loss": kind, **WHY[kind]}
        elif kind == "BCELoss" and activation == "raw":
            yield node, "TL003", {"loss": kind}


def activation_of(facts: FileFacts, expr: ast.expr, assigned: dict, depth: int = 0) -> str:
    if depth > 4 or expr is None:
        return ""
    if isinstance(expr, ast.Name) and expr.id in assigned:
        return activation_of(facts, assigned[expr.id], {**assigned, expr.id: None}, depth + 1)
    if isinstance(expr, ast.Call):
        func = expr.func
        name = last(dotted(func)) if not isinstance(func, ast.Call) else last(call_name(func))
        if name in ACTIVATIONS:
            return ACTIVATIONS[name]  # torch.softmax(x), x.softmax(1), nn.Softmax(1)(x)
        if name in SHAPE_METHODS and isinstance(func, ast.Attribute):
            return activation_of(facts, func.value, assigned, depth + 1)
        model = func.value if name == "forward" else func
        if dotted(model) in facts.models:
            return facts.models[dotted(model)]
        if facts.is_model(model):  # built elsewhere: if the file has one model class, that one
            return facts.sole_output()
    return ""


def check_direct_forward(facts: FileFacts) -> Iterator[tuple[ast.AST, str, dict]]:
    wrappers = {  # a forward() or __call__ may hand on to a module it was given, on purpose
        id(node)
        for function in ast.walk(facts.tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        and ("forward" in function.name or function.name == "__call__")
        for node in ast.walk(function)
    }
    for call in ast.walk(facts.tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        if call.func.attr != "forward":
            continue
        receiver = call.func.value
        name = dotted(receiver)
        if not name or name == "self" or name.startswith("super"):
            continue
        if isinstance(receiver, ast.Call) or last(name)[:1].isupper():
            continue  # super().forward(x), nn.Module.forward(self, x), Base.forward(self, x)
        if id(call) in wrappers and last(name) in WRAPPED:
            continue  # DDP's self.module.forward(...): the module it wraps, on purpose
        if not (facts.is_model(receiver) or name.startswith("self.")):
            continue  # toolbar.forward(), a history's forward(): not a module (self.x: one)
        yield call, "TL011", {"call": f"{name}.forward", "short": name}


def check_torch_load(node: ast.AST, imports: dict[str, str]) -> Iterator[tuple]:
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        name = dotted(call.func)
        if name != "torch.load" and imports.get(name) != "torch.load":
            continue
        if keyword(call, "weights_only") is None and not has_star_kwargs(call):
            yield call, "TL012", {}


def check_loaders(facts: FileFacts) -> Iterator[tuple[ast.AST, str, dict]]:
    for node in ast.walk(facts.tree):
        if not (isinstance(node, ast.Call) and last(call_name(node)) == "DataLoader"):
            continue
        data = node.args[0] if node.args else keyword(node, "dataset")
        if data is None or has_star_kwargs(node):
            continue
        if keyword(node, "sampler") is not None or keyword(node, "batch_sampler") is not None:
            continue
        shuffle = keyword(node, "shuffle")
        if shuffle is not None and not is_false(shuffle):
            continue
        named = last(dotted(data)).lower() or last(call_name(data)).lower()
        loader = next((n for n, c in facts.loaders.items() if c is node), "")
        if not any(TRAIN_NAME_RE.search(n) for n in (named, last(loader).lower()) if n):
            continue
        if "iterable" in named or "stream" in named:
            continue
        if dotted(data) in facts.datasets and "Iterable" in call_name(facts.datasets[dotted(data)]):
            continue
        yield node, "TL010", {}


def check_leaky_scaling(facts: FileFacts) -> Iterator[tuple[ast.AST, str, dict]]:
    """A scaler fit (or mean/std taken) on a table that is split afterwards in the same body."""
    bodies = [facts.tree.body] + [f.body for f in facts.functions.values()]
    scalers = {
        name
        for node in ast.walk(facts.tree)
        if isinstance(node, ast.Assign) and last(call_name(node.value)) in SCALERS
        for name in (dotted(t) for t in node.targets)
    }
    for body in bodies:
        seen_all: dict[str, ast.AST] = {}  # table -> where a scaler saw all its rows
        named: dict[str, str] = {}  # mu = X.mean(0): statistic -> table
        for node in walk_scope(body):
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                tables, outside = statistics_of(node.value, named)
                if len(tables) == 1 and not outside & tables:
                    named[node.targets[0].id] = tables.pop()
            if isinstance(node, (ast.Assign, ast.Expr)):
                value = node.value
                fits = [fit for n in ast.walk(value) if (fit := scaler_fit(n, scalers))]
                targets = target_names(node.targets[0]) if isinstance(node, ast.Assign) else []
                for table in fits:
                    for name in names_in(table) & {dotted(table)}:
                        seen_all[name] = node
                if fits and any(last(call_name(n)) == "fit_transform" for n in ast.walk(value)):
                    seen_all |= dict.fromkeys(targets, node)
                elif self_statistics(value, named):
                    seen_all |= dict.fromkeys(targets, node)
                elif origins := [seen_all[n] for n in rows_of(value) if n in seen_all]:
                    seen_all |= dict.fromkeys(targets, origins[0])  # X = X[perm], tensor(X)
                else:
                    for name in targets:
                        seen_all.pop(name, None)
            split = None
            if isinstance(node, ast.Call) and last(call_name(node)) in SPLITS and node.args:
                split = set().union(*(names_in(a) for a in node.args))
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
                split = {dotted(node.value)} & sliced_both_ways(body)  # X[:n], X[n:]
            for name in sorted((split or set()) & set(seen_all)):
                if (origin := seen_all.get(name)) is not None:  # one finding per scaling
                    yield origin, "TL009", {"name": name}
                    seen_all = {k: v for k, v in seen_all.items() if v is not origin}


ROW_KEEPING = {"tensor", "as_tensor", "from_numpy", "asarray", "array", "float", "astype", "to",
               "double", "TensorDataset", "values", "to_numpy", "clone", "copy"}  # fmt: skip


def rows_of(value: ast.expr) -> set[str]:
    """Names whose rows `value` still holds: X, X[perm], torch.tensor(X).float(), ... (not
    X.mean(0), a statistic)."""
    if isinstance(value, ast.Name):
        return {value.id}
    if isinstance(value, ast.Subscript):
        return rows_of(value.value)
    if isinstance(value, (ast.Tuple, ast.List)):
        return set().union(*(rows_of(e) for e in value.elts)) if value.elts else set()
    if isinstance(value, ast.Attribute) and value.attr in ROW_KEEPING:
        return rows_of(value.value)
    if isinstance(value, ast.Call) and last(call_name(value)) in ROW_KEEPING:
        inner = [value.func.value] if isinstance(value.func, ast.Attribute) else []
        return set().union(*(rows_of(a) for a in [*inner, *value.args]))
    return set()


def sliced_both_ways(body: list[ast.stmt]) -> set[str]:
    """Names cut into a head and a tail in this body (`X[:n]` and `X[n:]`): a split."""
    heads, tails = set(), set()
    for node in walk_scope(body):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            lower, upper = node.slice.lower, node.slice.upper
            if lower is None and upper is not None:
                heads.add(dotted(node.value))
            elif lower is not None and upper is None:
                tails.add(dotted(node.value))
    return heads & tails - {""}


def scaler_fit(node: ast.AST, scalers: set[str]) -> ast.expr | None:
    """The table that `scaler.fit(X)` or `scaler.fit_transform(X)` learns statistics from."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("fit", "fit_transform")
        and node.args
    ):
        return None
    owner = node.func.value
    return node.args[0] if dotted(owner) in scalers or last(call_name(owner)) in SCALERS else None


STATISTICS = ("mean", "std", "min", "max", "var", "median", "amin", "amax", "nanmean", "nanstd")


def statistics_of(value: ast.expr, named: dict[str, str]) -> tuple[set[str], set[str]]:
    """The tables whose statistics `value` uses (X.mean(0), np.std(X, 0), or a name holding
    one), and the names it uses outside of those statistics."""
    tables, outside = set(), set()
    todo = [value]
    while todo:
        node = todo.pop()
        receiver = next((method_call(node, m) for m in STATISTICS if method_call(node, m)), None)
        if receiver is not None and dotted(receiver):
            tables.add(dotted(receiver))  # X.mean(axis=0)
            continue
        if isinstance(node, ast.Call) and last(call_name(node)) in STATISTICS and node.args:
            tables.add(dotted(node.args[0]))  # np.mean(X, axis=0)
            continue
        if isinstance(node, ast.Name):
            if node.id in named:
                tables.add(named[node.id])
            else:
                outside.add(node.id)
        todo += ast.iter_child_nodes(node)
    return tables - {""}, outside


def self_statistics(value: ast.expr, named: dict[str, str]) -> bool:
    """`(X - X.mean(0)) / X.std(0)`, `(X - mu) / sigma` with mu = X.mean(0): a table scaled
    with its own statistics."""
    if not isinstance(value, ast.BinOp):
        return False
    tables, outside = statistics_of(value, named)
    return len(tables) == 1 and tables <= outside


def check_device(facts: FileFacts, function: ast.AST) -> Iterator[tuple[ast.AST, str, dict]]:
    if not facts.moved_model:
        return
    for loop in walk_scope(function.body):
        if not isinstance(loop, (ast.For, ast.AsyncFor)) or not loader_of(facts, loop.iter):
            continue
        if data_on_device(facts, loop_loader(loop.iter)):
            continue
        fresh = set(target_names(loop.target))
        if isinstance(loop.iter, ast.Call) and last(call_name(loop.iter)) == "enumerate":
            if isinstance(loop.target, ast.Tuple) and loop.target.elts:
                fresh -= set(target_names(loop.target.elts[0]))
        reported = set()
        for node in walk_scope(loop.body):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    fresh -= set(target_names(target))
            if not isinstance(node, ast.Call):
                continue
            if not (facts.is_model(node.func) or facts.loss_kind(node) is not None):
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                base = arg.value if isinstance(arg, ast.Subscript) else arg  # batch["x"]
                if isinstance(base, ast.Name) and base.id in fresh and base.id not in reported:
                    reported.add(base.id)
                    yield node, "TL006", {"name": ast.unparse(arg)}


def loop_loader(expr: ast.expr) -> ast.expr:
    while isinstance(expr, ast.Call) and last(call_name(expr)) in ("enumerate", "tqdm", "iter"):
        if not expr.args:
            break
        expr = expr.args[0]
    return expr


def loader_of(facts: FileFacts, expr: ast.expr) -> bool:
    expr = loop_loader(expr)
    if isinstance(expr, ast.Call):
        return last(call_name(expr)) == "DataLoader"
    name = dotted(expr)
    return bool(name) and (name in facts.loaders or bool(LOADER_RE.search(last(name))))


def data_on_device(facts: FileFacts, expr: ast.expr) -> bool:
    """A loader over tensors already moved to the device, or one with its own collate_fn."""
    call = expr if isinstance(expr, ast.Call) else facts.loaders.get(dotted(expr))
    if call is None:
        return False
    if keyword(call, "collate_fn") is not None or has_star_kwargs(call):
        return True
    data = call.args[0] if call.args else keyword(call, "dataset")
    build = facts.datasets.get(dotted(data), data)
    for node in ast.walk(build) if build is not None else []:
        if (
            isinstance(node, ast.Call)
            and facts.to_gpu(node)
            and last(call_name(node))
            in (
                "to",
                "cuda",
            )
        ):
            return True
        if isinstance(node, ast.Name) and node.id in facts.on_device:
            return True
    return False


# --- putting it together ------------------------------------------------------------------


def uses_torch(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "torch" for a in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            return True
    return False


def imported_names(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def scopes(facts: FileFacts) -> Iterator[Scope]:
    """The module body, then every function and method, each with the calls it makes inlined.
    A function's scope knows nothing of its callers: the module's scope (or a caller's) sees
    the function again, inlined where it is called, in the context of that call."""
    yield Scope(facts, facts.tree.body, "")
    classes = {
        id(f): c.name for c in facts.classes.values() for f in c.body if isinstance(f, ast.AST)
    }
    for node in ast.walk(facts.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield Scope(facts, node.body, node.name, classes.get(id(node)))


def check_source(source: str, path: str = "<string>") -> list[Finding]:
    """Every finding in one file's source (raises SyntaxError if it is not Python)."""
    tree = ast.parse(source, filename=path)
    facts = FileFacts.read(tree)
    raw: list[tuple[ast.AST, str, dict]] = []
    for scope in scopes(facts):
        for check in (check_zero_grad, check_scheduler_order, check_evaluation):
            raw += list(check(scope))
    functions = [facts.tree, *facts.functions.values()]
    for function in functions:
        raw += check_kept_loss(facts, function)
        raw += check_activation_before_loss(facts, function)
        raw += check_device(facts, function)
    raw += check_direct_forward(facts)
    raw += check_torch_load(tree, imported_names(tree))
    raw += check_loaders(facts)
    if not uses_torch(tree):  # not a PyTorch script: only the data leak applies
        raw = []
    raw += check_leaky_scaling(facts)
    lines = source.splitlines()
    found = {}
    for node, code, words in raw:
        item = finding(path, node, code, **words)
        if not suppressed(lines, item):
            found.setdefault((item.line, item.code), item)
    return sorted(found.values(), key=lambda f: (f.line, f.code))


def suppressed(lines: list[str], item: Finding) -> bool:
    text = lines[item.line - 1] if item.line <= len(lines) else ""
    match = re.search(r"#\s*(noqa|doctor:\s*ignore)\b(?::?\s*\[?([\w ,]+)\]?)?", text)
    if not match:
        return False
    codes = match.group(2)
    return codes is None or item.code in re.findall(r"TL\d{3}", codes)


SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "site-packages", "node_modules", "runs"}


def python_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                parts = file.relative_to(path).parts[:-1]
                if not any(p in SKIP_DIRS or p.startswith(".") for p in parts):
                    yield file
        else:
            yield path


def check_paths(paths: list[Path]) -> tuple[list[Finding], list[str]]:
    """Findings in every Python file under the paths, and one line per file it could not read."""
    findings, problems = [], []
    for file in python_files(paths):
        try:
            with tokenize.open(file) as f:  # the encoding the file declares (PEP 263), or UTF-8
                source = f.read()
            findings += check_source(source, str(file))
        except SyntaxError as e:
            if e.lineno is None:  # tokenize.open: bytes that are not the declared encoding
                problems.append(f"{file}: cannot read: not UTF-8 (nor the encoding it declares)")
            else:
                problems.append(f"{file}:{e.lineno}: cannot parse: {e.msg}")
        except (OSError, UnicodeDecodeError, LookupError) as e:
            problems.append(f"{file}: cannot read: {e.__class__.__name__}")
        except RecursionError:
            problems.append(f"{file}: too deeply nested to check")
        except Exception as e:  # a shape of code the checker does not know: say so, go on
            problems.append(f"{file}: could not be checked ({e.__class__.__name__}: {e})")
    return findings, problems


def as_json(findings: list[Finding]) -> str:
    return json.dumps(
        [asdict(f) | {"name": RULES[f.code].name} for f in findings], indent=2, ensure_ascii=False
    )
