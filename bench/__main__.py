"""Run benchmarks: ``python -m bench`` (all) or ``python -m bench ledger proofs`` (some).

Arguments after ``--`` go to each benchmark, e.g. ``python -m bench ledger -- --no-pg``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run the named benchmarks (default: every ``bench_*`` module)."""
    cut = argv.index("--") if "--" in argv else len(argv)
    names, extra = argv[:cut], argv[cut + 1 :]
    available = sorted(
        m.name[len("bench_") :]
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    chosen = names or available
    unknown = [n for n in chosen if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(available)}")
        return 2
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        sys.argv = [f"bench_{name}", *extra]
        print(f"\n##### {name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
