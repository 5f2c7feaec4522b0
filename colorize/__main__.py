"""`python -m colorize`: the wizard without arguments, subcommands with them."""

import sys

from colorize.cli import main

if __name__ == "__main__":
    sys.exit(main())
