"""`scaffold doctor` on a labelled corpus: precision and recall per check, and seconds.

tests/doctor_corpus/ holds training scripts, each labelled on its first line with the mistakes
really in it (`# expect: TL004, TL005` or `# expect: none`): clean scripts (pytorch/examples
copies and near misses written to tempt a naive checker) and scripts with each mistake in
several shapes. A finding counts as a true positive when its code is in the file's label
(one per file and code), as a false alarm when it is not; a label the checker does not report
is a miss. The generated example projects (generated_examples/) are checked too: they must be
clean.

    python benchmarks/doctor_corpus.py            # the corpus and the examples: seconds
    python benchmarks/doctor_corpus.py --misses   # also list each miss and false alarm
    python benchmarks/doctor_corpus.py --smoke    # the same, for CI
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from scaffold.doctor import RULES, check_paths, check_source  # noqa: E402

CORPUS = REPO / "tests" / "doctor_corpus"


def label(file: Path) -> set[str]:
    header = file.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"#\s*expect:\s*(.+)", header.strip())
    if not match:
        raise SystemExit(f"{file}: the first line must be '# expect: CODES' or '# expect: none'")
    codes = {c.strip() for c in match.group(1).split(",")}
    return set() if codes == {"none"} else codes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="same run (it takes seconds)")
    parser.add_argument("--misses", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    files = sorted(CORPUS.glob("*.py"))
    clean = [f for f in files if not label(f)]
    counts = {code: {"tp": 0, "fp": 0, "fn": 0, "files": 0} for code in RULES}
    notes, lines = [], 0
    start = time.perf_counter()
    for file in files:
        source = file.read_text(encoding="utf-8")
        lines += source.count("\n")
        wanted = label(file)
        got = {f.code for f in check_source(source, str(file))}
        for code in wanted:
            counts[code]["files"] += 1
        for code in got & wanted:
            counts[code]["tp"] += 1
        for code in got - wanted:
            counts[code]["fp"] += 1
            notes.append(f"false alarm {code}: {file.name}")
        for code in wanted - got:
            counts[code]["fn"] += 1
            notes.append(f"missed {code}: {file.name}")
    seconds = time.perf_counter() - start
    print(f"corpus: {len(files)} scripts ({len(clean)} clean), {lines:,} lines, {seconds:.2f} s")
    print(
        f"{'code':<7}{'check':<34}{'files':>6}{'found':>7}{'false':>7}{'precision':>11}{'recall':>8}"
    )
    total = {"tp": 0, "fp": 0, "fn": 0}
    for code, c in counts.items():
        for key in total:
            total[key] += c[key]
        precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        print(
            f"{code:<7}{RULES[code].name:<34}{c['files']:>6}{c['tp']:>7}{c['fp']:>7}"
            f"{precision:>11.2f}{recall:>8.2f}"
        )
    precision = total["tp"] / max(1, total["tp"] + total["fp"])
    recall = total["tp"] / max(1, total["tp"] + total["fn"])
    false_on_clean = sum(1 for n in notes if n.startswith("false") and n.split(": ")[1] in
                         {f.name for f in clean})  # fmt: skip
    print(
        f"all: precision {precision:.2f}, recall {recall:.2f} ({total['tp']} of "
        f"{total['tp'] + total['fn']} labelled mistakes found, {total['fp']} false alarms, "
        f"{false_on_clean} on clean scripts)"
    )
    findings, problems = check_paths([REPO / "generated_examples"])
    print(f"generated examples: {len(findings)} findings, {len(problems)} unreadable files")
    if args.misses:
        print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
