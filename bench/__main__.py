"""Run every benchmark in turn and print their figures (`python -m bench` or `make bench`)."""

from __future__ import annotations

import importlib
import sys

# Each entry is a module in bench/ with a main(); a name given on the command line runs only it.
BENCHMARKS = ["grader_bench", "http_bench", "exam_pdf_bench", "instr_bench", "same_form_bench"]


def main() -> None:
    chosen = sys.argv[1:] or BENCHMARKS
    for name in chosen:
        try:
            mod = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                print(f"== {name}: not present, skipped\n")
                continue
            raise
        print(f"== {name}")
        mod.main()
        print()


if __name__ == "__main__":
    main()
