"""``python -m kbsearch`` runs the ``kbsearch`` command."""

from .cli import main

if __name__ == "__main__":
    main()
