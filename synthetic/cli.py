"""Command line: ``python -m synthetic --out DIR [--persons N] [--gemeenten N] [--years A-B]``."""

from __future__ import annotations

import argparse
import json
import sys

from synthetic.config import DEFAULT_SEED


def _years(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--years '{text}': expected FIRST-LAST, e.g. 2018-2024") from None
    if b < a:
        raise argparse.ArgumentTypeError(f"--years '{text}': last year before first")
    return a, b


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m synthetic",
        description="Write a synthetic CBS RA tree (DIR/ra) with gemeenten.csv, truth.json and "
                    "calibration.md beside it.")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--persons", type=int, default=100_000,
                   help="approximate residents in the last year (default 100000)")
    p.add_argument("--gemeenten", type=int, default=25,
                   help="gemeenten in the classification year (default 25)")
    p.add_argument("--years", type=_years, default=(2018, 2024),
                   help="first-last year of the files (default 2018-2024)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the generator from command-line arguments; return the exit code."""
    args = build_parser().parse_args(argv)
    from synthetic import generate

    try:
        summary = generate(args.out, persons=args.persons, gemeenten=args.gemeenten,
                           years=args.years, seed=args.seed, progress=not args.quiet)
    except ValueError as exc:
        print(f"synthetic: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0
