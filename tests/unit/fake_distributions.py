"""Third-party distributions written to a directory, as pip would leave them, for tests of discovery."""

import textwrap


def install_distribution(root, name, version, entry_points, modules):
    """A distribution as pip would leave it on ``root``: its modules and a *.dist-info directory."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{entry_point} = {target}\n" for entry_point, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[gradcore]\n{lines}")
