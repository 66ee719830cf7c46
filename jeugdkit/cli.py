"""The `jeugdkit` command line: a thin layer over functions a notebook can call too.

    jeugdkit synth --out DIR                 write a synthetic RA tree (DIR/ra) with its truth
    jeugdkit inventory --data-root R         which files, versions, rows, variables
    jeugdkit cache --data-root R             convert every chosen file to the Parquet cache
    jeugdkit population --data-root R --period P --out FILE.parquet
                                             the study population of a period (internal)
    jeugdkit tables --data-root R --period P --out DIR [--gemeente CODE --compare stedelijkheid]
                                             indicators and standard tables, output-controlled
    jeugdkit deepdive --data-root R --period P --out DIR [--gemeente CODE --compare stedelijkheid]
                                             trap 2: O/E, funnel, gemeente effects,
                                             decomposition, panel, output-controlled
    jeugdkit trajecten --data-root R --period P --out DIR [--gemeente CODE --compare ...]
                                             trajectories and outcome indicators,
                                             output-controlled
    jeugdkit demo --out DIR                  the quick start: synthetic data, then its inventory
    jeugdkit audit DIR [DIR ...]             the attacker's LP over the union of export logs
                                             (exit 1 when a suppressed cell is too narrow)

Common options: --data-root (or JEUGDKIT_DATA_ROOT), --catalog (or JEUGDKIT_CATALOG),
--cache-dir (or JEUGDKIT_CACHE_DIR).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from jeugdkit import __version__
from jeugdkit.errors import JeugdkitError


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", help="RA data root (default: JEUGDKIT_DATA_ROOT)")
    parser.add_argument("--catalog", help="user catalog TOML overriding the shipped one "
                        "(default: JEUGDKIT_CATALOG)")
    parser.add_argument("--cache-dir", help="Parquet cache folder (default: JEUGDKIT_CACHE_DIR "
                        "or the user cache folder)")
    parser.add_argument("--on-bad-value", choices=["raise", "missing"], default=None,
                        help="a value the contract does not allow (e.g. date 20231345): stop "
                        "(raise, the default) or read it as missing and count it (default: "
                        "[analysis] on_bad_value in the settings, or JEUGDKIT_ON_BAD_VALUE)")


def _reader(args):
    from jeugdkit.read import reader_from_args
    return reader_from_args(args)


def cmd_inventory(args) -> int:
    """Print the inventory; exit 2 when no dataset file is found, 1 when a file cannot be
    read (the inventory is printed either way)."""
    from jeugdkit.inventory import format_inventory, inventory_report, unreadable_files
    report = inventory_report(_reader(args))
    if not any(entry["files"] for entry in report["datasets"].values()):
        raise JeugdkitError(f"no file of any dataset found under {report['data_root']}: is "
                            "this the data root (the folder holding Bevolking, "
                            "GezondheidWelzijn, ...)?")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_inventory(report))
    bad = unreadable_files(report)
    if bad:
        print(f"jeugdkit inventory: {len(bad)} file(s) could not be read: {', '.join(bad)}",
              file=sys.stderr)
        return 1
    return 0


def cmd_cache(args) -> int:
    """Convert every chosen file to the cache; exit 2 when there is nothing to convert, 1
    when a file cannot be read (the others are converted)."""
    from tqdm import tqdm
    reader = _reader(args)
    known = [spec.name for spec in reader.catalog]
    names = args.datasets or known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise JeugdkitError(f"dataset(s) {', '.join(unknown)} not in the catalog; known: "
                            f"{', '.join(known)}")
    todo = [(name, f) for name in names for f in reader.inventory[name].chosen.values()]
    if not todo:
        raise JeugdkitError(f"no file of {', '.join(names)} found under {reader.data_root}: "
                            "nothing to cache (see `jeugdkit inventory`)")
    failed = []
    for name, found in tqdm(todo, desc="cache", unit="file", file=sys.stderr):
        spec = reader.catalog[name]
        try:
            reader.read(name, [v.key for v in spec.variables.values() if not v.is_wide],
                        years=[found.year])
            wide = any(v.is_wide for v in spec.variables.values())
            for year in reader.classification_years(name, year=found.year) if wide else []:
                reader.read(name, [v.key for v in spec.variables.values() if v.is_wide],
                            years=[found.year], classification_year=year)
        except JeugdkitError as exc:  # go on with the other files, fail at the end
            failed.append(f"{found.path}: {exc}")
    rows = sum(r.rows for r in reader.log)
    print(f"cached {len(reader.log)} reads ({rows:,} rows) in {reader.cache_dir}")
    for line in failed:
        print(f"jeugdkit cache: not cached: {line}", file=sys.stderr)
    return 1 if failed else 0


def cmd_audit(args) -> int:
    from jeugdkit.output.union import audit_exports, find_logs, format_audit
    bounds = audit_exports(args.folders, populations=args.population or None,
                           exact=args.exact)
    if args.csv:
        bounds.assign(cell=bounds["cell"].astype(str)).to_csv(args.csv, index=False,
                                                              lineterminator="\n")
    try:
        print(format_audit(bounds, len(find_logs(args.folders))))
    except BrokenPipeError:  # piped into head: the verdict is the exit code
        pass
    return 0 if bool(bounds["ok"].all()) else 1


def cmd_synth(args, rest: list[str]) -> int:
    from synthetic.cli import main as synth_main
    return synth_main(rest) or 0


def cmd_demo(args) -> int:
    """Generate the synthetic default, run the report of a demo gemeente and print where the
    HTML is (the README's main job)."""
    import json

    from jeugdkit.report.runner import run_reports
    from synthetic import generate
    out = Path(args.out)
    if not (out / "ra").exists() or args.force:
        print(f"Synthetische RA-map maken in {out / 'ra'} ...", flush=True)
        # without --seed: the generator's default seed, the same tree as `jeugdkit synth`
        generate(out, persons=args.persons, **({} if args.seed is None else {"seed": args.seed}))
    gemeente = args.gemeente
    if not gemeente:
        # the demo shows a gemeente the generator made notably high (its truth says so)
        truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
        gemeente = truth["jeugdhulp"]["outliers"]["high"][0]
    summary = run_reports(out / "ra", args.period, gemeenten=[gemeente], out=out / "rapporten",
                          cache_dir=args.cache_dir or out / "cache", force=args.force,
                          ledger=out / "jeugdkit-ledger")
    if summary.failed:
        for o in summary.failed:
            print(f"mislukt: {o.message}", file=sys.stderr)
        return 1
    report = next(o.job.folder / "rapport.html" for o in summary.outcomes
                  if o.job.kind == "gemeente")
    print(f"\nRapport van gemeente {gemeente}: {report.resolve()}")
    print(f"Export (door outputcontrole): {(report.parent / 'export').resolve()}")
    print(f"Overzicht van alle rapporten: {summary.index}")
    print(f"Synthetische RA-map: {out / 'ra'} (de geplante waarheid: {out / 'truth.json'})")
    return 0


def _add_analysis_options(p, gemeente_help: str) -> None:
    """Period, scope (jeugdkit.scope), settings and output options of tables, deepdive and
    trajecten."""
    p.add_argument("--period", required=True, help="2023, 2023H1 or 2023H2")
    p.add_argument("--gemeente", help=gemeente_help)
    p.add_argument("--compare", choices=["stedelijkheid", "grootte", "jeugdregio"],
                   help="comparison group of --gemeente (default: stedelijkheid)")
    p.add_argument("--groep", help="comparison group as a list of gemeentecodes, e.g. "
                   "0344,0363,0518 (instead of --compare)")
    p.add_argument("--reference", help="gemeente reference CSV (default: JEUGDKIT_REFERENCE, "
                   "else gemeenten.csv in the data root's parent folder)")
    p.add_argument("--settings", help="settings TOML (default: JEUGDKIT_SETTINGS)")
    p.add_argument("--out", required=True, help="output folder")
    _add_ledger_option(p)


def _add_ledger_option(p) -> None:
    p.add_argument("--ledger", default=None, help="period ledger folder: the run is protected "
                   "against everything released for the period before and registered in it "
                   "(default: JEUGDKIT_LEDGER or ./jeugdkit-ledger; 'none': this run alone)")


def _lazy(module: str, function: str):
    """Return a command that imports its module only when run (keeps start-up fast)."""
    def run(args):
        import importlib
        return getattr(importlib.import_module(module), function)(args)
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jeugdkit", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"jeugdkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log warnings and progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inventory", help="chosen files, versions, rows, variables per dataset")
    _add_data_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_inventory)

    p = sub.add_parser("audit", help="audit the union of export folders as an attacker "
                       "holding all of them (exact LP); exit 1 when a cell is too narrow")
    p.add_argument("folders", nargs="+", help="export folders (or their log folders)")
    p.add_argument("--csv", help="also write every audited cell to this CSV")
    p.add_argument("--population", action="append", help="audit only this population "
                   "(repeatable; default: every population in the logs)")
    p.add_argument("--exact", action="store_true", help="the exact LP for every cell (by "
                   "default a cell that the feasible tables of earlier cells' LPs prove wide "
                   "enough gets those inner bounds, which is faster on a period's outputs)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("cache", help="convert every chosen file to the Parquet cache")
    _add_data_options(p)
    p.add_argument("--datasets", nargs="*", help="only these datasets")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("population", help="build the study population of a period "
                       "(internal intermediate: holds person keys, never export it)")
    _add_data_options(p)
    p.add_argument("--period", required=True, help="2023, 2023H1 or 2023H2")
    p.add_argument("--out", required=True, help="output FILE.parquet "
                   "(FILE.reconciliation.csv is written beside it)")
    p.add_argument("--classification-year", type=int, default=None,
                   help="gemeente classification year (default: the period's year, or the "
                        "newest in VSLGWBTAB)")
    p.add_argument("--settings", help="settings TOML (default: JEUGDKIT_SETTINGS)")
    p.set_defaults(func=_lazy("jeugdkit.population", "cli_population"))

    p = sub.add_parser("tables", help="release the trap-1 indicators and standard tables "
                       "through output control")
    _add_data_options(p)
    _add_analysis_options(p, "gemeentecode (4 digits) to compare")
    p.add_argument("--unit", choices=["jongeren", "trajecten"], default=None,
                   help="unit of the standard tables (default: trajecten for instroom and "
                        "stroom, jongeren for gebruik)")
    p.set_defaults(func=_lazy("jeugdkit.tables", "cli_tables"))

    p = sub.add_parser("deepdive", help="trap 2: observed versus expected, funnel, gemeente "
                       "effects, decomposition and panel, through output control")
    _add_data_options(p)
    _add_analysis_options(p, "gemeentecode (4 digits): highlighted in the funnel, its gap to "
                          "the comparison group decomposed")
    p.add_argument("--outcome", default=None, help="boolean column of the population, e.g. "
                   "jeugdhulp (default), jeugdbescherming, jeugdhulp_met_verblijf")
    p.add_argument("--ages", default=None, help="age range, e.g. 0-17 (default) or 12-22")
    p.add_argument("--cluster", choices=["huishouden", "gemeente"], default=None,
                   help="clusters for standard errors and the bootstrap (default huishouden)")
    p.add_argument("--replicates", type=int, default=None,
                   help="bootstrap replicates of the decomposition (default 200)")
    p.add_argument("--lag", type=int, default=None,
                   help="panel: years between wijkteam share and met-verblijf share (default 1)")
    p.add_argument("--no-panel", action="store_true",
                   help="skip the panel (it builds one population per year)")
    p.set_defaults(func=_lazy("jeugdkit.deepdive.release", "cli_deepdive"))

    p = sub.add_parser("trajecten", help="trajectories and outcomes (uitval, herhaald beroep, "
                       "duur, overgangen, overlap, uitkomstitems, spiegel), output-controlled")
    _add_data_options(p)
    _add_analysis_options(p, "gemeentecode (4 digits) to compare")
    p.set_defaults(func=_lazy("jeugdkit.trajectories", "cli_trajecten"))

    p = sub.add_parser("release", help="the national set of a period (tables and trajectory "
                       "indicators of every gemeente), protected once into the period ledger "
                       "that every later output of the period is protected against")
    _add_data_options(p)
    p.add_argument("--period", required=True, help="2023, 2023H1 or 2023H2")
    p.add_argument("--settings", help="settings TOML (default: JEUGDKIT_SETTINGS)")
    p.add_argument("--out", required=True, help="output folder")
    _add_ledger_option(p)
    p.set_defaults(func=_lazy("jeugdkit.release", "cli_release"))

    p = sub.add_parser("report", help="run the notebooks and write the HTML report of one "
                       "gemeente or all gemeenten of a period (with the output-controlled "
                       "export beside it)")
    _add_data_options(p)
    p.add_argument("--period", default=None, help="2023, 2023H1 or 2023H2 (default: the "
                   "newest year whose follow-up year files are present)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--gemeente", help="gemeentecode, or several: 0344,0363")
    which.add_argument("--all", action="store_true", help="every gemeente of the period")
    p.add_argument("--compare", choices=["stedelijkheid", "grootte", "jeugdregio"],
                   default="stedelijkheid", help="comparison group (default: stedelijkheid)")
    p.add_argument("--groep", help="comparison group as gemeentecodes, e.g. 0344,0363,0518")
    p.add_argument("--reference", help="gemeente reference CSV: names and comparison groups "
                   "(default: JEUGDKIT_REFERENCE, else gemeenten.csv in the data root's parent "
                   "folder)")
    p.add_argument("--settings", help="settings TOML (default: JEUGDKIT_SETTINGS)")
    p.add_argument("--out", default="rapporten", help="report folder (default: ./rapporten)")
    p.add_argument("--workers", type=int, default=None,
                   help="gemeenten in parallel (default: the number of cores)")
    p.add_argument("--force", action="store_true", help="redo reports that are done")
    p.add_argument("--wait", action="store_true", help="when another run writes into --out, "
                   "wait until it is done (default: stop at once with exit code 2)")
    p.add_argument("--run-timestamp", default=None, help="the one time written into the "
                   "reports and logs (default: now); fix it to regenerate identical files")
    _add_ledger_option(p)
    p.set_defaults(func=_lazy("jeugdkit.report.runner", "cli_report"))

    p = sub.add_parser("synth", help="write a synthetic RA tree (see `jeugdkit synth --help`)",
                       add_help=False)
    p.set_defaults(func=cmd_synth, passthrough=True)

    p = sub.add_parser("demo", help="generate the synthetic default and write the report of a "
                       "demo gemeente (the README's main job)")
    p.add_argument("--out", default="demo", help="output folder (default: ./demo)")
    p.add_argument("--gemeente", help="gemeentecode (default: a gemeente the generator made "
                   "notably high)")
    p.add_argument("--period", default=None, help="default: the newest year with follow-up")
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=None,
                   help="generator seed (default: the generator's own, as `jeugdkit synth`)")
    p.add_argument("--cache-dir")
    p.add_argument("--force", action="store_true", help="regenerate the tree and the report")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "synth":
        args, rest = parser.parse_known_args(argv[:1])
        return cmd_synth(args, argv[1:])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    bad_value = os.environ.get("JEUGDKIT_ON_BAD_VALUE")
    try:
        if getattr(args, "on_bad_value", None):
            # the report's notebooks run in kernels of their own: they read it from here
            os.environ["JEUGDKIT_ON_BAD_VALUE"] = args.on_bad_value
        return args.func(args)
    except JeugdkitError as exc:
        print(f"jeugdkit {args.command}: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        print(f"jeugdkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a read-only or full disk, a file where a folder should be
        where = f": {exc.filename}" if exc.filename else ""
        print(f"jeugdkit {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    finally:  # a caller in the same process (a notebook, a test) keeps its own setting
        if bad_value is None:
            os.environ.pop("JEUGDKIT_ON_BAD_VALUE", None)
        else:
            os.environ["JEUGDKIT_ON_BAD_VALUE"] = bad_value


if __name__ == "__main__":
    sys.exit(main())
