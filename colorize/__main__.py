"""`python -m colorize`: the wizard without arguments, subcommands with them."""

import sys

from colorize.frontends.cli import main

if __name__ == "__main__":
    sys.exit(main())
