"""Unknown sizes of a relaxed gc.function trace (gradcore/engine/sizes.py; docs/function.md, "Unknown sizes")."""

import pytest

from gradcore.engine import sizes
from gradcore.engine.recording import state
from gradcore.engine.sizes import NeedsKnownSizes, Size, expression_of, looks_like_a_size, stand_in_size


class _Recorder:
    """Stands for a relaxed trace: notes the guards, with stand-in size 97."""

    class relaxation:
        stand_in = 97

    def __init__(self):
        self.guards = {}

    def size_guard(self, source, result):
        self.guards[source] = result


@pytest.fixture
def tracer(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(state, "tracer", recorder)
    return recorder


def test_arithmetic_keeps_the_expression_and_the_stand_in_value():
    d = Size(97, sizes.UNKNOWN)
    flat = d * 28 * 28 + 1
    assert type(flat) is Size and int.__int__(flat) == 97 * 784 + 1
    assert eval(flat.expr.format(d="n"), {"n": 5}) == 5 * 784 + 1
    assert eval((10 - d // 2).expr.format(d="n"), {"n": 9}) == 10 - 9 // 2


@pytest.mark.parametrize("use", [int, float, lambda d: d / 2, lambda d: [0] * d.__index__(), lambda d: d ** 2])
def test_asking_for_the_number_gives_the_trace_up(use):
    with pytest.raises(NeedsKnownSizes):
        use(Size(97, sizes.UNKNOWN))


def test_comparisons_answer_with_the_stand_in_and_become_guards(tracer):
    d = Size(97, sizes.UNKNOWN)
    assert (d == 1) is False and (d > 0) is True
    assert tracer.guards == {"({d} == 1)": False, "({d} > 0)": True}


def test_the_same_expression_is_equal_without_a_guard_and_so_is_a_raw_multiple(tracer):
    d = Size(97, sizes.UNKNOWN)
    assert d == Size(97, sizes.UNKNOWN)
    assert d * 2 == 194  # a raw array's size that is a multiple of the stand-in: the same unknown size
    assert tracer.guards == {}


def test_an_unknown_size_shows_as_none_and_hashes_apart_from_its_value():
    d = Size(97, sizes.UNKNOWN)
    assert repr((d, 3)) == "(None, 3)" and f"{d}" == "None"
    assert {97: "known"}.get(d) is None


def test_the_stand_in_size_is_a_prime_no_known_size_is_a_multiple_of():
    assert stand_in_size([3, 784]) == 97
    assert stand_in_size([97 * 2, 101]) == 103


def test_sizes_read_off_raw_shapes_are_expressions_of_the_stand_in():
    assert expression_of(97, 97) == "{d}"
    assert expression_of(97 * 784, 97) == "({d} * 784)"
    assert expression_of(97 * 97 * 3, 97) == "({d} * {d} * 3)"
    assert expression_of(784, 97) is None and expression_of(0, 97) is None


@pytest.mark.parametrize("value, expected", [(97, True), (194.0, True), (1 / 97, True), (1 / 194, True),
                                             (96, False), (0.5, False), (0, False), (True, False),
                                             (5e-324, False), (float("inf"), False)])
def test_numbers_that_a_size_could_have_made_are_recognised(value, expected):
    assert looks_like_a_size(value, 97) is expected
