"""gc.Module: automatic tracking, TF's traversal order, names and name scopes (as tf.Module).

The order asserted here is tf.Module._flatten's: a module's own attributes in sorted
name order (lists in order, dicts by sorted key), then each submodule met, walked the
same way; a value reachable twice is listed once, where first met.
"""

import pytest

import gradcore as gc


def names(variables):
    return [v.name for v in variables]


class Leaf(gc.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.w = gc.Variable(1.0, name="leaf_w")
        self.moving = gc.Variable(0.0, name="leaf_moving", trainable=False)


class Net(gc.Module):
    def __init__(self):
        super().__init__()
        self.z = gc.Variable(1.0, name="z")
        self.a = gc.Variable(2.0, name="a")
        self.child = Leaf()
        self.items = [gc.Variable(3.0, name="l0"), {"y": gc.Variable(4.0, name="dy"), "x": gc.Variable(5.0, name="dx")}]
        self.frozen = gc.Variable(6.0, name="frozen", trainable=False)
        self.config = {"units": 3, "label": "not a variable"}


def test_variables_in_tf_order_own_attributes_first_then_submodules():
    net = Net()
    # own: a, frozen, items -> l0, {x: dx, y: dy}, z; then child: moving, w
    assert names(net.variables) == ["a:0", "frozen:0", "l0:0", "dx:0", "dy:0", "z:0", "leaf_moving:0", "leaf_w:0"]
    assert isinstance(net.variables, tuple)  # tf.Module answers with tuples


def test_trainable_and_non_trainable_split():
    net = Net()
    assert names(net.trainable_variables) == ["a:0", "l0:0", "dx:0", "dy:0", "z:0", "leaf_w:0"]
    assert names(net.non_trainable_variables) == ["frozen:0", "leaf_moving:0"]


def test_a_variable_reachable_twice_is_listed_once():
    net = Net()
    net.alias = net.a
    net.more = [net.child.w, (net.z,)]
    net.child_again = net.child
    assert len(net.variables) == 8
    assert sorted(names(net.variables)) == sorted(names(Net().variables))
    assert list(net.submodules) == [net.child]


def test_values_added_after_construction_are_found_when_asked():
    net = Net()
    net.items.append(gc.Variable(7.0, name="late"))
    assert "late:0" in names(net.variables)


def test_submodules_direct_ones_first_then_deeper():
    a, b, c, d = gc.Module(name="a"), gc.Module(name="b"), gc.Module(name="c"), gc.Module(name="d")
    a.b, b.c, a.d = b, c, d
    assert list(a.submodules) == [b, d, c]  # tf.Module docstring: a.b = b; b.c = c -> [b, c]


def test_cycles_are_walked_once():
    parent, child = gc.Module(name="parent"), Leaf()
    parent.child, child.parent = child, parent
    parent.v = gc.Variable(1.0, name="v")
    assert names(parent.variables) == ["v:0", "leaf_moving:0", "leaf_w:0"]
    assert list(parent.submodules) == [child]  # the root is not its own submodule


def test_layers_inside_a_module_are_tracked():
    module = gc.Module(name="holder")
    module.dense = gc.layers.Dense(2, name="inner_dense")
    module.dense(gc.ones((1, 3)))
    assert names(module.trainable_variables) == ["inner_dense/kernel:0", "inner_dense/bias:0"]


def test_default_name_is_the_snake_case_class_name():
    assert gc.Module().name == "module"
    assert Leaf().name == "leaf"
    assert Leaf(name="custom").name == "custom"


@pytest.mark.parametrize("bad", ["has space", "1st", "a/b", 3])
def test_a_module_name_must_be_an_identifier(bad):
    with pytest.raises(ValueError, match="valid module name"):
        gc.Module(name=bad)


def test_name_scope_is_fixed_where_the_module_is_created():
    outer = gc.Module(name="outer")
    with outer.name_scope as scope:
        assert scope == "outer/"
        inner = gc.Module(name="inner")
    with inner.name_scope as scope:
        assert scope == "outer/inner/"
    with gc.Module(name="top").name_scope as scope:  # entering a scope later does not nest it
        assert scope == "top/"


def test_with_name_scope_runs_a_method_inside_the_modules_scope():
    class Builder(gc.Module):
        @gc.Module.with_name_scope
        def make_child(self):
            return gc.Module(name="child")

    child = Builder(name="builder").make_child()
    with child.name_scope as scope:
        assert scope == "builder/child/"
