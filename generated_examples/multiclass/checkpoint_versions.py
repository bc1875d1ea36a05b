"""Which template release wrote a checkpoint, and checkpoints of earlier releases in this one's
format, so that runs trained before a `scaffold update` still evaluate, predict and resume.

checkpoints.load_checkpoint passes every checkpoint through upgrade(). What changed, by release:

    0.10.0 text projects (new; nothing changed for tables and images)
    0.9.0  tabular: numbers robust-scaled and smooth-clipped ("clip"), with quantile bins
           ("bins"); the MLP's piecewise-linear embedding ("numeric_bins" in model_args)
    0.8.0  data_sha256: the fingerprint of the data file (eval.py and --resume refuse it changed)
    0.6.0  records template_version (earlier ones are recognised by their contents)
    0.5.0  rng: a list with one {"torch", "cuda"} per process (torchrun)
    0.4.0  sha256 (integrity hash) and progress (mid-epoch saves); rng: {"torch", "cuda": [GPUs]}
    0.3.0  tabular features: "columns" (name -> spec)
    0.2.0  tabular features: "numeric" (name -> stats), "categorical" (name -> fill, categories)

Everything else (model weights and arguments, optimizer, scheduler, settings, targets) kept its
format: settings were only ever added, and Config.from_dict gives missing ones their defaults,
except those in OLD_DEFAULTS: a run resumed from an older checkpoint keeps what it trained with.
"""

from typing import Any

# This project's template release (scaffold update changes it); every checkpoint records it.
TEMPLATE_VERSION = "0.11.0"
# Settings added with a default that trains differently: a checkpoint of an older release
# gets the value that release used (release -> settings).
OLD_DEFAULTS = {
    (0, 9, 0): {"numeric_scaling": "standard", "numeric_embedding": "none"},
}


class OldCheckpointError(Exception):
    """A checkpoint this release cannot use; the message says which release wrote it and why."""


def written_by(state: dict[str, Any]) -> str:
    """The template release that wrote a checkpoint."""
    if "template_version" in state:
        return str(state["template_version"])
    if isinstance(state.get("rng"), list):
        return "0.5.0"
    if "progress" in state:
        return "0.4.0"
    return "0.3.0" if "strict_data" in state.get("config", {}) else "0.2.0"


def has_no_hash(state: dict[str, Any]) -> bool:
    """Releases before 0.4.0 stored no integrity hash (nor anything else that came with it)."""
    return "template_version" not in state and written_by(state) in ("0.2.0", "0.3.0")


def upgrade(state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The checkpoint in this release's format, and notes on what differs from the original."""
    version, notes = written_by(state), []
    if release(version)[:2] > release(TEMPLATE_VERSION)[:2]:
        raise OldCheckpointError(
            f"written by template {version}, newer than this project's {TEMPLATE_VERSION}: "
            "bring the project up to date with `scaffold update`"
        )
    try:
        convert(state, version, notes)
    except (KeyError, TypeError, ValueError) as e:
        raise OldCheckpointError(
            f"written by template {version} in a form this release cannot read "
            f"({type(e).__name__}: {e}): train a new run"
        ) from None
    state["template_version"] = version
    return state, notes


def convert(state: dict[str, Any], version: str, notes: list[str]) -> None:
    """Bring a checkpoint written by `version` to this release's format, in place."""
    preprocessing = state["preprocessing"]
    if has_no_hash(state):
        notes.append(f"written by template {version}, which stored no integrity hash: unverified")
        state["progress"] = {"step": 0, "loss_sum": 0.0}  # it saved at epoch ends only
    for added, settings in OLD_DEFAULTS.items():
        if release(version) < added:
            state["config"] = {**settings, **state["config"]}
    if isinstance(state["rng"], dict):  # before 0.5.0: one process, every GPU's state
        state["rng"] = [one_process_rng(state["rng"], state["config"])]
    if "numeric" in preprocessing["features"]:  # 0.2.0, tabular
        preprocessing["features"] = tabular_features_020(preprocessing["features"], notes)
        if "classes" in preprocessing["targets"]:
            classes = preprocessing["targets"]["classes"]
            preprocessing["targets"]["classes"] = stripped(classes, "target", version)
    image = "size" in preprocessing["features"]
    if version == "0.4.0" and image and state["progress"]["step"]:
        # 0.4.0 shuffled streamed images in another order: redo the epoch, never a sample twice.
        state["progress"] = {"step": 0, "loss_sum": 0.0}
        notes.append(f"written by template {version} mid-epoch: resuming at the epoch's start")


def release(version: str) -> tuple[int, ...]:
    """(major, minor, patch) of a version such as 0.6.0 or 0.6.0+unreleased.abc."""
    return tuple(int(part) for part in version.split("+")[0].split(".")[:3])


def one_process_rng(rng: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Releases before 0.5.0 saved the state of every visible GPU: keep the run's own."""
    device = str(config.get("device", "auto"))
    index = int(device.split(":")[1]) if device.startswith("cuda:") else 0
    gpus = rng.get("cuda") or []
    return {"torch": rng["torch"], "cuda": gpus[index] if index < len(gpus) else None}


def tabular_features_020(features: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """0.2.0 put every numeric column first, then every categorical one: the same order here,
    so each weight still meets its feature."""
    columns = {
        name: {"type": "numeric", "stats": list(stats)}
        for name, stats in features["numeric"].items()
    }
    for name, (fill, *categories) in features["categorical"].items():
        if "?" in (fill, *categories):
            notes.append(
                f"column {name!r}: template 0.2.0 read '?' as a category, this release reads "
                "it as missing: predictions on rows with '?' may differ (train a new run)"
            )
        columns[name] = {
            "type": "categorical",
            "fill": as_text(fill),
            "categories": stripped(categories, f"column {name!r}", "0.2.0"),
        }
    return {"columns": columns}


def as_text(value: str) -> str:
    """A 0.2.0 category as this release writes it: numbers as numbers ('2.0' -> '2'), no
    surrounding spaces."""
    try:
        number = float(value)
    except ValueError:
        return value.strip()
    return str(int(number)) if number.is_integer() else str(number)


def stripped(values: list[str], what: str, version: str) -> list[str]:
    texts = [as_text(v) for v in values]
    if len(set(texts)) < len(texts):
        raise OldCheckpointError(
            f"written by template {version}, whose {what} has values that differ only by "
            f"spaces or number format ({values}); this release reads them as one: train a new run"
        )
    return texts
