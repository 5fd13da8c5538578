"""A backend's expected failures: a file of suite ids, as the Array API test suite's xfails files.

One entry per line: a test's id relative to the suite folder, as the summary prints it
(``test_ops.py::test_forward_matches_reference[erf-float32]``), or a pattern where ``*``
matches any text (``test_summary.py::*``). ``#`` starts a comment. A listed test runs as
``xfail``: its failure does not fail the run. An entry all of whose tests pass is stale,
and one that matches no test is unmatched; the summary lists both, so the file shrinks as
the backend improves instead of hiding fixed tests.
"""

import re
from dataclasses import dataclass, field

import pytest


@dataclass
class Entry:
    pattern: str
    where: str  # "FILE:LINE", for the xfail reason and the stale report
    matched: list = field(default_factory=list)

    def matches(self, suite_id):
        if "*" not in self.pattern:
            return suite_id == self.pattern
        return re.fullmatch(".*".join(map(re.escape, self.pattern.split("*"))), suite_id) is not None


class ExpectedFailures:
    def __init__(self, entries=()):
        self.entries = list(entries)

    def entry_for(self, suite_id):
        """The entry that names ``suite_id`` (the first that matches), or None."""
        return next((e for e in self.entries if e.matches(suite_id)), None)

    def mark(self, items, suite_id):
        """Mark every item an entry names as a non-strict xfail."""
        for item in items:
            entry = self.entry_for(suite_id(item))
            if entry is not None:
                item.add_marker(pytest.mark.xfail(reason=f"expected failure, listed at {entry.where}", strict=False))

    def record(self, suite_id):
        """Count a test that ran against the entry naming it. Done where the outcomes are gathered,
        not at collection: under pytest-xdist the workers collect and only the controller reports."""
        entry = self.entry_for(suite_id)
        if entry is not None and suite_id not in entry.matched:
            entry.matched.append(suite_id)

    def stale(self, outcomes):
        """Entries whose tests all ran and none failed: remove them from the file."""
        return [e for e in self.entries
                if e.matched and all(outcomes.get(sid) in ("xpassed", "passed") for sid in e.matched)]

    def unmatched(self):
        return [e for e in self.entries if not e.matched]


def read(path):
    """The entries of the expected-failures file at ``path``."""
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError as exc:
        raise pytest.UsageError(f"--gradcore-xfails {path}: cannot read it ({exc})") from exc
    entries = []
    for number, line in enumerate(lines, start=1):
        pattern = line.split("#", 1)[0].strip()
        if pattern:
            entries.append(Entry(pattern, f"{path}:{number}"))
    return ExpectedFailures(entries)
