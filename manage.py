#!/usr/bin/env python
"""Django's command-line utility for Kiln."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")
    from django.core.management import execute_from_command_line

    from lims.dotenv import load_checkout_env
    from lims.envconfig import ConfigError

    try:
        load_checkout_env()  # the development .env of `make run`; the environment wins
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        sys.stderr.write(f"Kiln configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
