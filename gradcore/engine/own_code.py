"""Which Python modules are gradcore's own code and which are its users'.

Some behaviour depends on who is calling: ``gc.debugging.enable_check_numerics`` names the
first frame outside gradcore, a relaxed ``gc.function`` trace shows unknown sizes only to
user code, and the registry tells gradcore's gradient rules from a user's. The conformance
suite ships inside the package (gradcore/conformance) but calls gradcore as a user does, so
it counts as user code.
"""

_USER_PACKAGES = ("gradcore.conformance",)


def is_gradcore_module(name):
    """True for a module of gradcore itself (``gradcore``, ``gradcore.ops.math_ops`` ...)."""
    if name != "gradcore" and not name.startswith("gradcore."):
        return False
    return not any(name == package or name.startswith(package + ".") for package in _USER_PACKAGES)
