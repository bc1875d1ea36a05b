"""`scaffold doctor`: each check finds its mistake and is silent on the fix, the corpus of real
and written scripts holds no false alarm, and the command's output and exit codes are as the
README promises."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaffold.cli import app
from scaffold.doctor import RULES, check_paths, check_source

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "doctor_corpus"

HEAD = """\
import torch
from torch import nn
from torch.utils.data import DataLoader

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=64)
"""

TRAIN = """
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""

# code -> (a script with the mistake, the same script with its one-line fix)
CASES = {
    "TL001": (TRAIN.replace("optimizer.zero_grad()", "pass"), TRAIN),
    "TL002": (
        TRAIN.replace("criterion(model(x), y)", "criterion(torch.softmax(model(x), dim=1), y)"),
        TRAIN,
    ),
    "TL003": (
        TRAIN.replace("criterion(model(x), y)", "nn.BCELoss()(model(x), y)"),
        TRAIN.replace("criterion(model(x), y)", "nn.BCEWithLogitsLoss()(model(x), y)"),
    ),
    "TL004": (
        TRAIN + "    with torch.no_grad():\n        for x, y in val_loader:\n"
        "            total = criterion(model(x.to(device)), y.to(device)).item()\n",
        TRAIN + "    model.eval()\n    with torch.no_grad():\n        for x, y in val_loader:\n"
        "            total = criterion(model(x.to(device)), y.to(device)).item()\n",
    ),
    "TL005": (
        TRAIN + "    model.eval()\n    for x, y in val_loader:\n"
        "        total = criterion(model(x.to(device)), y.to(device)).item()\n",
        TRAIN + "    model.eval()\n    with torch.inference_mode():\n"
        "        for x, y in val_loader:\n"
        "            total = criterion(model(x.to(device)), y.to(device)).item()\n",
    ),
    "TL006": (
        TRAIN.replace("x, y = x.to(device), y.to(device)", "x = x.to(device)"),
        TRAIN,
    ),
    "TL007": (
        TRAIN.replace("optimizer.step()", "optimizer.step()\n        total_loss += loss"),
        TRAIN.replace("optimizer.step()", "optimizer.step()\n        total_loss += loss.item()"),
    ),
    "TL008": (
        TRAIN.replace("    model.train()", "    scheduler.step()\n    model.train()"),
        TRAIN + "    scheduler.step()\n",
    ),
    "TL009": (
        "from sklearn.model_selection import train_test_split\n"
        "X = StandardScaler().fit_transform(X)\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y)\n",
        "from sklearn.model_selection import train_test_split\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y)\n"
        "X_train = StandardScaler().fit_transform(X_train)\n",
    ),
    "TL010": (
        "loader = DataLoader(train_set, batch_size=32)\n",
        "loader = DataLoader(train_set, batch_size=32, shuffle=True)\n",
    ),
    "TL011": (
        TRAIN.replace("criterion(model(x), y)", "criterion(model.forward(x), y)"),
        TRAIN,
    ),
    "TL012": (
        'state = torch.load("best.pt")\n',
        'state = torch.load("best.pt", weights_only=True)\n',
    ),
}


def codes(source: str) -> set[str]:
    """The codes found in a PyTorch script (the checks other than TL009 need `import torch`)."""
    return {f.code for f in check_source("import torch\n" + source)}


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_check_finds_its_mistake_and_not_the_fix(code: str) -> None:
    bad, good = CASES[code]
    assert code in codes(HEAD + bad), f"{code} missed in:\n{bad}"
    assert codes(HEAD + good) == set(), f"false alarm on the fix of {code}:\n{good}"


def test_every_check_has_a_case_and_a_readme_line() -> None:
    readme = (REPO / "README.md").read_text()
    assert set(CASES) == set(RULES)
    for code in RULES:
        assert re.search(rf"^\| `{code}` ", readme, re.M), f"{code} is not in README's table"


SHAPES = {
    # the step order written in another sequence: zero_grad last is fine
    "zero_grad last": (
        "for x, y in loader:\n    loss = crit(net(x), y)\n    loss.backward()\n"
        "    opt.step()\n    opt.zero_grad()\n",
        set(),
    ),
    # zero_grad only once, before the loop
    "zero_grad before the loop": (
        "opt.zero_grad()\nfor x, y in loader:\n    loss = crit(net(x), y)\n"
        "    loss.backward()\n    opt.step()\n",
        {"TL001"},
    ),
    # gradient accumulation: zero_grad under an if, every k batches
    "accumulation": (
        "for i, (x, y) in enumerate(loader):\n    (crit(net(x), y) / 4).backward()\n"
        "    if (i + 1) % 4 == 0:\n        opt.step()\n        opt.zero_grad()\n",
        set(),
    ),
    # a train_step helper that zeroes, called from the loop
    "helper zeroes": (
        "def train_step(x, y):\n    opt.zero_grad()\n    loss = crit(net(x), y)\n"
        "    loss.backward()\n    opt.step()\n    return loss.item()\n\n"
        "for epoch in range(3):\n    for x, y in loader:\n        train_step(x, y)\n",
        set(),
    ),
    "helper forgets": (
        "def train_step(x, y):\n    loss = crit(net(x), y)\n    loss.backward()\n"
        "    opt.step()\n\nfor x, y in loader:\n    train_step(x, y)\n",
        {"TL001"},
    ),
    # an evaluate() whose caller switches to eval mode and turns gradients off
    "caller sets eval": (
        "def evaluate(model, loader):\n    return sum(model(x).sum().item() for x in [1])\n\n"
        "def check(model, loader):\n    total = 0\n    for x, y in loader:\n"
        "        total += model(x).sum().item()\n    return total\n\n"
        "model.train()\nmodel.eval()\nwith torch.no_grad():\n    check(model, val_loader)\n",
        set(),
    ),
    "decorated evaluate": (
        "@torch.no_grad()\ndef evaluate(model, loader):\n    model.eval()\n"
        "    for x, y in loader:\n        model(x)\n\n"
        "for epoch in range(3):\n    model.train()\n    for x, y in train_loader:\n"
        "        opt.zero_grad()\n        crit(model(x), y).backward()\n        opt.step()\n"
        "    evaluate(model, val_loader)\n",
        set(),
    ),
    "evaluate forgets eval": (
        "def evaluate(model, loader):\n    with torch.no_grad():\n"
        "        for x, y in loader:\n            model(x)\n\n"
        "for epoch in range(3):\n    model.train()\n    for x, y in train_loader:\n"
        "        opt.zero_grad()\n        crit(model(x), y).backward()\n        opt.step()\n"
        "    evaluate(model, val_loader)\n",
        {"TL004"},
    ),
    "validation loss summed without no_grad is TL005 only": (
        "model.eval()\nfor x, y in val_loader:\n    val_loss += crit(model(x), y)\n",
        {"TL005"},
    ),
    "LBFGS closure": (
        "opt = torch.optim.LBFGS(net.parameters())\nfor x, y in loader:\n"
        "    def closure():\n        opt.zero_grad()\n        loss = crit(net(x), y)\n"
        "        loss.backward()\n        return loss\n    opt.step(closure)\n",
        set(),
    ),
    "plateau scheduler takes the validation loss": (
        "sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)\nfor epoch in range(3):\n"
        "    sched.step(best)\n    for x, y in loader:\n        opt.zero_grad()\n"
        "        crit(net(x), y).backward()\n        opt.step()\n",
        set(),
    ),
    "softmax kept for predictions only": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 3)\n\n    def forward(self, x):\n"
        "        return self.fc(x)\n\nnet = Net()\ncrit = nn.CrossEntropyLoss()\n"
        "loss = crit(net(x), y)\nprobabilities = torch.softmax(net(x), dim=1)\n",
        set(),
    ),
    "softmax in forward": (
        "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc = nn.Linear(4, 3)\n\n    def forward(self, x):\n"
        "        return torch.softmax(self.fc(x), dim=1)\n\nnet = Net()\n"
        "crit = nn.CrossEntropyLoss()\nout = net(x)\nloss = crit(out, y)\n",
        {"TL002"},
    ),
    "BCELoss after a sigmoid in forward": (
        "net = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nloss = nn.BCELoss()(net(x), y)\n",
        set(),
    ),
    "log_softmax with NLLLoss": (
        "out = F.log_softmax(net(x), dim=1)\nloss = F.nll_loss(out, y)\n",
        set(),
    ),
    "dict batch left on the CPU": (
        "model = Net().cuda()\nfor batch in train_loader:\n"
        '    out = model(input_ids=batch["input_ids"])\n',
        {"TL006"},
    ),
    "dict batch moved": (
        "model = Net().cuda()\nfor batch in train_loader:\n"
        "    batch = {k: v.cuda() for k, v in batch.items()}\n    out = model(**batch)\n",
        set(),
    ),
    "named statistics": (
        "mu, sigma = X.mean(0), X.std(0)\nmu = X.mean(axis=0)\nsigma = X.std(axis=0) + 1e-8\n"
        "X = (X - mu) / sigma\nX_train, X_test = train_test_split(X)\n",
        {"TL009"},
    ),
    "dataset already on the device": (
        "model = Net().cuda()\nds = TensorDataset(X.cuda(), Y.cuda())\n"
        "loader = DataLoader(ds, batch_size=8, shuffle=True)\n"
        "for x, y in loader:\n    crit(model(x), y)\n",
        set(),
    ),
    "CPU only": (
        'model = Net().to("cpu")\nloader = DataLoader(ds, batch_size=8, shuffle=True)\n'
        "for x, y in loader:\n    crit(model(x), y)\n",
        set(),
    ),
    "super().forward": (
        "class Wide(Net):\n    def forward(self, x):\n        return super().forward(x) * 2\n",
        set(),
    ),
    "scaler fit on the training split": (
        "X_train, X_test = train_test_split(X)\nscaler = StandardScaler()\n"
        "X_train = scaler.fit_transform(X_train)\nX_test = scaler.transform(X_test)\n",
        set(),
    ),
    "own statistics before random_split": (
        "X = (X - X.mean(0)) / X.std(0)\n"
        "train, test = random_split(TensorDataset(X, y), [80, 20])\n",
        {"TL009"},
    ),
    "a sampler instead of shuffle": (
        "train_loader = DataLoader(train_ds, batch_size=8, sampler=WeightedRandomSampler(w, 8))\n",
        set(),
    ),
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_common_shapes(name: str) -> None:
    source, expected = SHAPES[name]
    assert codes(source) == expected


def test_noqa_silences_one_line() -> None:
    source = 'import torch\na = torch.load("x.pt")  # noqa: TL012\nb = torch.load("y.pt")\n'
    assert [f.line for f in check_source(source)] == [3]
    assert check_source('import torch\ntorch.load("x.pt")  # doctor: ignore\n') == []
    assert len(check_source('import torch\ntorch.load("x.pt")  # noqa: TL004\n')) == 1


def test_files_without_torch_get_only_the_data_leak_check() -> None:
    """Not a PyTorch script (sklearn's estimators, a toolbar's forward()): only TL009 applies."""
    source = CASES["TL009"][0] + "clf = Classifier()\nfor x in val_loader:\n    clf(x)\n"
    assert {f.code for f in check_source(source)} == {"TL009"}
    assert check_source("toolbar.forward()\nmodel.forward(x)\n") == []


def corpus_labels() -> dict[Path, set[str]]:
    labels = {}
    for file in sorted(CORPUS.glob("*.py")):
        header = file.read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# expect: (.+)", header.strip())
        assert match, f"{file.name}: first line must be '# expect: ...'"
        words = {w.strip() for w in match.group(1).split(",")}
        labels[file] = set() if words == {"none"} else words
    return labels


def test_the_corpus_has_no_false_alarm_and_high_recall() -> None:
    """Every clean script (real pytorch/examples ones included) passes; every finding anywhere
    is a labelled mistake; and at least 90% of the labelled mistakes are found."""
    labels = corpus_labels()
    assert len(labels) >= 40
    found, expected = 0, 0
    for file, wanted in labels.items():
        got = {f.code for f in check_source(file.read_text(encoding="utf-8"), str(file))}
        assert got <= wanted, f"{file.name}: false alarm {sorted(got - wanted)}"
        found += len(got & wanted)
        expected += len(wanted)
    assert found >= 0.9 * expected, f"recall {found}/{expected}"


def test_generated_projects_are_clean() -> None:
    findings, problems = check_paths([REPO / "generated_examples"])
    assert not problems
    assert findings == [], "\n".join(f.text() for f in findings)


runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["doctor", *args], prog_name="scaffold")


def test_cli_output_and_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "train.py"
    bad.write_text(HEAD + CASES["TL001"][0])
    (tmp_path / "good.py").write_text(HEAD + TRAIN)
    venv = tmp_path / ".venv" / "lib"  # skipped: installed packages are not the user's code
    venv.mkdir(parents=True)
    (venv / "other.py").write_text(CASES["TL012"][0])

    result = invoke(str(tmp_path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert re.fullmatch(
        rf"{re.escape(str(bad))}:\d+: TL001 .+ — call optimizer\.zero_grad.+", lines[0]
    )
    assert "1 finding(s) in 1 file(s)" in result.stderr

    result = invoke(str(tmp_path / "good.py"))
    assert result.exit_code == 0 and result.stdout == ""

    result = invoke("--format", "json", str(bad))
    assert result.exit_code == 1
    (item,) = json.loads(result.stdout)
    assert item["code"] == "TL001" and item["name"] == "no-zero-grad"
    assert item["path"] == str(bad) and item["line"] > 0 and item["fix"]


def test_cli_bad_paths_get_one_line(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"scaffold: error: no such file or folder: {tmp_path / 'nope.py'}"
    ]
    result = invoke("--format", "xml", str(tmp_path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "'xml' is not one of 'text', 'json'" in result.stderr.replace('"', "'")
    broken = tmp_path / "broken.py"
    broken.write_text("for x in :\n")
    result = invoke(str(broken))
    assert result.exit_code == 2
    assert f"scaffold: error: {broken}:1: cannot parse" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reads_the_declared_encoding_and_counts_what_it_could_not_check(
    tmp_path: Path,
) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\nimport torch\nname = '\xe9t\xe9'\n"
                      b'torch.load("m.pt")\n')  # fmt: skip
    (tmp_path / "broken.py").write_bytes(b"x = '\xff\xfe'\n")  # not UTF-8, declares nothing
    result = invoke(str(tmp_path))
    assert result.exit_code == 2  # a file it could not read outranks findings
    assert f"{latin}:4: TL012" in result.stdout
    assert "broken.py: cannot read: not UTF-8 (nor the encoding it declares)" in result.stderr
    assert "1 finding(s) in 1 file(s); 1 file(s) could not be checked" in result.stderr


def test_check_source_on_dedented_code() -> None:
    source = textwrap.dedent("""
        def fit(model, loader, opt):
            for x, y in loader:
                opt.zero_grad()
                model(x).sum().backward()
                opt.step()
        """)
    assert check_source(source) == []
