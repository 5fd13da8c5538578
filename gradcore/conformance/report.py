"""The conformance verdict as a table of op x dtype, for the terminal, JSON or Markdown.

A row is an op: the registry op types an op case covers (``AddV2``, ``Conv2D`` ...), or,
for the tests that are not op cases, the topic of their module (``tape``, ``checkpoint`` ...).
A column is the dtype a test ran in, when it names one in a parameter or a
``gradcore_dtype`` mark (``any`` otherwise). A cell says the
worst that happened there: FAIL, then unsupported, expected failure, ok, skipped.
"""

import json
from collections import Counter, defaultdict
from pathlib import Path

from gradcore.plugin.contract import ALL_DTYPES

FORMATS = (".json", ".md")
ANY_DTYPE = "any"
# Worst first: a cell shows the first of these that happened in it.
_CELL = (("failed", "FAIL"), ("unsupported", "unsup"), ("xfailed", "xfail"), ("xpassed", "xpass"),
         ("passed", "ok"), ("skipped", "skip"))
_SEVERITY = {outcome: rank for rank, (outcome, _) in enumerate(_CELL)}


class Results:
    """What happened to each test, by suite id, with the op rows and dtype it counts under."""

    def __init__(self):
        self.outcomes = {}  # suite id -> outcome
        self.placement = {}  # suite id -> (rows, dtype)
        self.details = {}  # suite id -> why (failure's last line, gap, skip reason)

    def add(self, suite_id, rows, dtype, rep, gap):
        """One report of a test: ``rows`` and ``dtype`` as ``placement`` gives them for its item."""
        outcome, detail = _outcome(rep, gap)
        previous = self.outcomes.get(suite_id)
        if previous is not None and _SEVERITY[previous] <= _SEVERITY[outcome]:
            return  # a teardown error after a pass: keep the worse
        self.outcomes[suite_id] = outcome
        self.placement[suite_id] = (list(rows), dtype)
        self.details[suite_id] = detail

    def summary(self, backend, expected):
        """Everything the report says, as plain data (what ``--gradcore-report x.json`` writes)."""
        table = defaultdict(lambda: defaultdict(Counter))
        for sid, outcome in self.outcomes.items():
            rows, dtype = self.placement[sid]
            for row in rows:
                table[row][dtype][outcome] += 1
        return {
            "backend": backend.name,
            "version": backend.version(),
            "devices": list(backend.devices()),
            "counts": dict(Counter(self.outcomes.values())),
            "unsupported": dict(Counter(self.details[s] for s, o in self.outcomes.items() if o == "unsupported")),
            "table": {row: {d: dict(c) for d, c in cells.items()} for row, cells in sorted(table.items())},
            "failures": [{"id": s, "ops": self.placement[s][0], "dtype": self.placement[s][1],
                          "error": self.details[s]} for s, o in self.outcomes.items() if o == "failed"],
            "stale": [{"entry": e.pattern, "at": e.where} for e in expected.stale(self.outcomes)],
            "unmatched": [{"entry": e.pattern, "at": e.where} for e in expected.unmatched()],
        }


def _outcome(rep, gap):
    if gap is not None:
        return "unsupported", f"{gap[0]} {gap[1]}"
    if hasattr(rep, "wasxfail"):
        return ("xfailed" if rep.skipped else "xpassed"), rep.wasxfail
    if rep.failed:
        return "failed", _last_line(rep)
    if rep.skipped:
        return "skipped", rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    return "passed", ""


def _last_line(rep):
    """The failure's message on one line, shortened: the summary's hint, pytest's output has the rest."""
    crash = getattr(rep.longrepr, "reprcrash", None)
    message = " ".join((crash.message if crash is not None else str(rep.longrepr)).split())
    return message if len(message) <= 160 else message[:157] + "..."


def placement(item):
    """(op rows, dtype column) of a test item: plain data, so it can travel in a report."""
    return _rows(item), _dtype(item)


def _rows(item):
    """The op types of an op case among the test's parameters, else the topic of its module."""
    for value in _params(item).values():
        ops = getattr(value, "ops", None)
        if isinstance(ops, tuple) and ops:
            return list(ops)
    module = getattr(item, "module", None)
    name = module.__name__.rsplit(".", 1)[-1] if module is not None else item.path.stem
    return [name.removeprefix("test_")]


def _dtype(item):
    """The test's ``gradcore_dtype`` mark, else its first parameter that is a dtype (a DType or a
    dtype's name), else ``any``."""
    mark = item.get_closest_marker("gradcore_dtype")
    if mark is not None:
        return mark.args[0]
    for value in _params(item).values():
        name = getattr(value, "name", value)
        if isinstance(name, str) and name in ALL_DTYPES:
            return name
    return ANY_DTYPE


def _params(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params if callspec is not None else {}


def _columns(summary):
    present = {d for cells in summary["table"].values() for d in cells}
    return [d for d in (*ALL_DTYPES, ANY_DTYPE) if d in present]


def _cell(counter):
    if not counter:
        return ""
    for outcome, label in _CELL:
        if counter.get(outcome):
            total = sum(counter.values())
            return label if counter[outcome] == total else f"{label} {counter[outcome]}/{total}"
    return ""


def _grid(summary):
    columns = _columns(summary)
    header = ["op", *columns]
    rows = [[op, *(_cell(cells.get(d, {})) for d in columns)] for op, cells in summary["table"].items()]
    return header, rows


def _verdict_lines(summary):
    counts = summary["counts"]
    order = ("passed", "failed", "unsupported", "xfailed", "xpassed", "skipped")
    lines = [f"{summary['backend']} {summary['version']} on {', '.join(summary['devices'])}: "
             + ", ".join(f"{counts.get(k, 0)} {k}" for k in order)]
    if summary["unsupported"]:
        gaps = ", ".join(f"{gap}: {n}" for gap, n in sorted(summary["unsupported"].items()))
        lines.append(f"unsupported (declared by the backend): {gaps}")
    for failure in summary["failures"]:
        lines.append(f"FAILED {'/'.join(failure['ops'])} [{failure['dtype']}] {failure['id']}: {failure['error']}")
    for entry in summary["stale"]:
        lines.append(f"STALE expected failure {entry['entry']!r} ({entry['at']}): its tests pass now; remove it")
    for entry in summary["unmatched"]:
        lines.append(f"UNMATCHED expected failure {entry['entry']!r} ({entry['at']}): it names no test")
    return lines


def format_text(summary):
    header, rows = _grid(summary)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    table = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join([*table, "", *_verdict_lines(summary)])


def format_markdown(summary):
    header, rows = _grid(summary)
    lines = [f"# gradcore conformance: {summary['backend']}", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join([*lines, "", *(f"- {line}" for line in _verdict_lines(summary))]) + "\n"


def write(summary, path):
    path = Path(path)
    text = json.dumps(summary, indent=2) + "\n" if path.suffix == ".json" else format_markdown(summary)
    path.write_text(text, encoding="utf-8")
