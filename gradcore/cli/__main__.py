"""``python -m gradcore.cli``: the ``gradcore`` command without its script."""

from gradcore.cli.main import main

main()
