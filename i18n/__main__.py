"""``python -m i18n update|compile|check``: keep the catalogues in step with the code, compile
them, or list what is not translated (exit code 1 if anything is)."""

from __future__ import annotations

import sys

from i18n import DOMAINS
from i18n.catalogues import compile_all, gaps, update


def main(argv: list[str]) -> int:
    command, *domains = argv or ["check"]
    chosen = tuple(domains) or DOMAINS
    if command == "update":
        update(chosen)
        return 0
    if command == "compile":
        print(f"compiled {compile_all()} catalogues")
        return 0
    if command == "check":
        missing = gaps(chosen)
        for gap in missing:
            print(gap)
        print(f"{len(missing)} untranslated or wrongly translated messages")
        return 1 if missing else 0
    print("usage: python -m i18n update|compile|check [domain ...]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
