"""``python -m hub`` is the ``hubkeeper`` command."""

from hub.cli import main

main()
