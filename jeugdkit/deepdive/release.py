"""The whole deep dive of a period and its release through output control.

::

    dd = deep_dive(pop, gemeente="0363", groups=groups, panel=build_panel(reader))
    released = release_deep_dive(dd, "export/")     # oe.csv, funnel_tabel.csv, funnel.png, ...

Every file written to the output folder is either an output of the run's ExportSession
(frequency tables, statistics tables, model parameter tables, figures) or is computed only
from such outputs and released model parameters (O/E and its interval from the released O
and E, the funnel from released O/E, shrinkage from released gemeente means). The session's
own files and log (results.json, summary.md, checksums) go to ``<out>/log``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.deepdive.decompose import Decomposition, decompose
from jeugdkit.deepdive.effects import GemeenteEffects, effect_spread, gemeente_effects, shrink
from jeugdkit.deepdive.funnel import Funnel, funnel, funnel_plot
from jeugdkit.deepdive.model import LEVELS, ModelFrame, model_frame
from jeugdkit.deepdive.oe import (
    ObservedExpected,
    for_output_check,
    model_fit,
    observed_vs_expected,
    ratio_interval,
)
from jeugdkit.deepdive.panel import PanelResult, wijkteam_panel
from jeugdkit.errors import DisclosureError, JeugdkitError
from jeugdkit.scope import GROUP, NATIONAL, Scope
from jeugdkit.settings import DEFAULT, Settings

OE_COLUMNS = ["gemeentecode", "niveau", "waargenomen", "verwacht", "ratio", "ondergrens",
              "bovengrens", "signaal"]


@dataclass
class DeepDive:
    """Every trap-2 analysis of one period (internal: nothing here has been checked yet)."""

    period: str
    frame: ModelFrame
    oe: ObservedExpected
    funnels: dict[str, Funnel]
    effects: GemeenteEffects | None
    decomposition: Decomposition | None
    panel: PanelResult | None
    gemeente: str | None = None
    groups: dict | None = None
    notes: dict = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)
    """Parts not made: {part: (kind, reason)}, for the export log (``leave_out``)."""

    def leave_out(self, part: str, kind: str, reason: str, label: str | None = None) -> None:
        """Leave a part out: a Dutch note for the report (``notes``) and an entry for the
        export log (``left_out``, written by ``release_deep_dive``)."""
        self.notes[part] = f"{label or part} {kind}: {reason}"
        self.left_out[part] = (kind, reason)


def deep_dive(pop, *, gemeente: str | None = None, groups: dict | None = None,
              outcome: str | None = None, ages: tuple[int, int] | None = None,
              covariates=None, cluster: str | None = None, replicates: int | None = None,
              panel: pd.DataFrame | None = None, lag: int | None = None,
              panel_weighted: bool = True, effects: bool | GemeenteEffects = True,
              seed: int = 0,
              settings: Settings | None = None) -> DeepDive:
    """Return the deep dive of a Population (O/E, funnels, effects, decomposition, panel).

    ``gemeente`` (with ``groups`` = ``{label: codes}`` from ``tables.comparison_group``)
    adds the decomposition of its gap to the group's other gemeenten (without a group: to
    the rest of the country). ``panel``: a gemeente x year frame from
    :func:`jeugdkit.deepdive.panel.build_panel` (None: no panel). Other arguments: see
    ``model_frame``, ``gemeente_effects``, ``decompose`` and ``wijkteam_panel``.
    ``effects``: False leaves them out; a GemeenteEffects fitted on the same model frame
    (the period's, fitted once for every report: ``Study.effects``) is used as it is.
    """
    settings = settings or DEFAULT
    mf = model_frame(pop.frame, outcome=outcome, ages=ages, covariates=covariates,
                     settings=settings)
    oe = observed_vs_expected(mf, groups=groups, settings=settings)
    funnels = {}
    for level in LEVELS.values():
        t = oe.table[(oe.table["niveau"] == level)
                     & ~oe.table["gemeentecode"].isin([NATIONAL, GROUP])]
        funnels[level] = funnel(t, settings=settings)
    if isinstance(effects, GemeenteEffects):
        eff = effects
        if len(eff.person_values) != len(mf.data):
            raise JeugdkitError(f"the gemeente effects given were fitted on "
                                f"{len(eff.person_values)} youths, this deep dive's model frame "
                                f"holds {len(mf.data)}: fit them on the same frame")
    else:
        eff = gemeente_effects(mf, cluster=cluster, settings=settings) if effects else None
    dd = DeepDive(str(pop.period.label), mf, oe, funnels, eff, None, None,
                  None if gemeente is None else str(gemeente).zfill(4), groups)
    # what the data cannot give is left out with the reason; the rest of the deep dive stands
    if gemeente is not None:
        codes = next(iter(groups.values())) if groups else None
        if codes is not None and not {str(c).zfill(4) for c in codes} - {dd.gemeente}:
            # alone in its class (a real classification can leave one gemeente so): the
            # decomposition compares with the rest of the country and says so
            dd.notes["vergelijking"] = (f"de vergelijkingsgroep ({next(iter(groups))}) bevat "
                                        f"alleen {dd.gemeente}: de decompositie vergelijkt met "
                                        "de rest van Nederland")
            codes = None
        try:
            dd.decomposition = decompose(mf, gemeente, comparison=codes, replicates=replicates,
                                         cluster=cluster, seed=seed, settings=settings)
        except JeugdkitError as exc:
            dd.leave_out("decompositie", "niet berekenbaar", str(exc))
    if panel is not None:
        try:
            dd.panel = wijkteam_panel(panel, lag=lag, weighted=panel_weighted,
                                      settings=settings)
        except JeugdkitError as exc:  # e.g. one year of data: no lag to relate
            dd.leave_out("panel", "niet berekenbaar", str(exc))
    return dd


def _pick(table: pd.DataFrame, column: str, **codes) -> pd.Series:
    m = np.ones(len(table), dtype=bool)
    for d, v in codes.items():
        m &= (table[d].astype(str) == v).to_numpy()
    return table[m].set_index("gemeentecode")[column]


def _with_odds(params: pd.DataFrame) -> pd.DataFrame:
    out = params.copy()
    out["odds_ratio"] = np.exp(out["coef"])
    if "ci_lower" in out:
        out["or_ondergrens"], out["or_bovengrens"] = np.exp(out["ci_lower"]), np.exp(
            out["ci_upper"])
    return out


def release_deep_dive(dd: DeepDive, out, *, run=None, settings: Settings | None = None,
                      write: bool = True, ledger=None,
                      names: dict | None = None) -> dict[str, pd.DataFrame]:
    """Release the deep dive through output control; write the files; return them.

    Writes ``oe.csv`` (gemeentecode, niveau, waargenomen, verwacht, ratio, ondergrens,
    bovengrens, signaal), ``funnel_tabel.csv`` + ``funnel.png`` (full composition) and
    ``funnel_leeftijd_geslacht.png``, ``oe_model_<niveau>.csv``, ``modelfit.csv``,
    ``effecten.csv``, ``spreiding.csv``, ``effecten_lpm.csv``, ``effecten_logit.csv``,
    ``decompositie.csv`` and ``decompositie_lpm.csv`` (with a gemeente), ``panel.csv``
    (with a panel), and the export log in ``<out>/log``. ``run``: an ExportSession to add
    to (e.g. the one that released the trap-1 tables, so their counts are protected
    together); by default a new one, protected against the period ``ledger`` if given.
    ``names``: {gemeentecode: name}, so that the funnel plot names gemeenten, not codes.

    O (youths with the outcome per gemeente) is released as a frequency table over the same
    population and unit as trap 1's indicator counts (``jongeren-0-17-<period>`` for the
    default ages), so that in one session both are one linked table. E is released as a
    statistics table (sum of predicted probabilities, >= ``min_units`` youths per cell). A
    gemeente whose O or E is suppressed gets no ratio, interval, funnel point or signal.
    """
    from jeugdkit.output import ExportSession
    settings = settings or DEFAULT
    total = settings.output_control.total_label
    label = dd.period
    run = run or ExportSession(f"deepdive-{label}", settings=settings, ledger=ledger)
    before = set(run.outputs)
    mf = dd.frame
    a0, a1 = mf.ages
    pop_key = f"jongeren-{a0}-{a1}-{label}"
    scope = Scope.from_groups(None, dd.groups) if dd.groups else Scope()
    codes_all = sorted(mf.data["gemeentecode"].unique())
    run.declare_composition(scope.composition(codes_all))
    hier = scope.hierarchy(codes_all)
    leaves = scope.leaves(mf.data["gemeentecode"]).to_numpy()
    released: dict[str, pd.DataFrame] = {}

    # ---- O and E per gemeente (+ groep, NL)
    yes_no = np.where(mf.data["y"].to_numpy() > 0, "ja", "nee")
    o_table = run.freq_table(pd.DataFrame({"gemeentecode": leaves, mf.outcome: yes_no}),
                             ["gemeentecode", mf.outcome], name="oe_waargenomen",
                             unit="jongeren", population=pop_key, hierarchies=hier,
                             levels={mf.outcome: ["ja", "nee"]},
                             description=f"{mf.outcome} {a0}-{a1} per gemeente (O of O/E)")
    o_table = scope.publish(o_table)
    observed = _pick(o_table, "aantal", **{mf.outcome: "ja"})
    rows = []
    for level in LEVELS.values():
        e_table = run.stats_table(
            pd.DataFrame({"gemeentecode": leaves, "verwacht": dd.oe.predictions[level]}),
            ["gemeentecode"], value="verwacht", stat="sum", name=f"oe_verwacht_{level}",
            unit="jongeren", population=pop_key, hierarchies=hier,
            description=f"expected {mf.outcome} (sum of predicted probabilities), {level}")
        e_table = scope.publish(e_table)
        expected = e_table.set_index("gemeentecode")["sum_verwacht"]
        part = pd.DataFrame({"gemeentecode": expected.index.astype(str)})
        part["niveau"] = level
        part["waargenomen"] = observed.reindex(part["gemeentecode"]).to_numpy()
        part["verwacht"] = expected.to_numpy()
        ok = part["waargenomen"].notna() & part["verwacht"].notna()
        ri = ratio_interval(pd.to_numeric(part["waargenomen"]).astype(float),
                            pd.to_numeric(part["verwacht"]).astype(float),
                            settings.analysis.oe_interval)
        for c in ri.columns:
            part[c] = ri[c].where(ok.to_numpy())
        rows.append(part)
    oe = pd.concat(rows, ignore_index=True)
    oe["waargenomen"] = oe["waargenomen"].astype("Int64")

    # ---- funnels from the released O and E of the gemeenten
    funnel_parts = []
    for level in LEVELS.values():
        sub = oe[(oe["niveau"] == level) & ~oe["gemeentecode"].isin([NATIONAL, GROUP])]
        sub = sub.assign(waargenomen=sub["waargenomen"].astype("Float64"))
        if int((sub["waargenomen"].notna() & sub["verwacht"].notna()).sum()) < 2:
            # output control blanked (nearly) every observed count: no funnel to draw
            dd.notes.setdefault("funnel", run.leave_out(
                f"funnel ({level})", "minder dan twee gemeenten met een vrijgegeven "
                "waargenomen en verwacht aantal", kind="niet vrijgegeven door outputcontrole"))
            continue
        # limit curves may not have more points than the figure's source table has cells
        cells = len(run.outputs[f"oe_verwacht_{level}"].content)
        fun = funnel(sub.astype({"waargenomen": float}), settings=settings,
                     grid=max(2, min(25, cells)))
        ft = fun.table.assign(niveau=level)
        for k in ("phi", "p_value", "tau2"):
            ft[f"overdispersie_{k}"] = fun.dispersion[k]
        ft["aanpassing"] = fun.dispersion["adjustment"]
        funnel_parts.append(ft)
        name = "funnel" if level == LEVELS["volledig"] else f"funnel_{level}"
        fig = funnel_plot(data=fun.table, limits=fun.limits, highlight=dd.gemeente,
                          title=f"{mf.outcome} {a0}-{a1}, {label}: O/E ({level})",
                          names=names)
        run.release_figure(fig, source=f"oe_verwacht_{level}", name=name,
                           description=f"funnel plot of O/E ({level}), limits "
                                       f"{settings.analysis.funnel_limits}, over-dispersion "
                                       f"adjustment {fun.dispersion['adjustment']}")
        signal = fun.table.set_index("gemeentecode")["signaal"]
        m = oe["niveau"] == level
        oe.loc[m, "signaal"] = oe.loc[m, "gemeentecode"].map(signal).fillna("").to_numpy()
    oe["signaal"] = oe["signaal"].fillna("") if "signaal" in oe else ""
    released["oe"] = oe[OE_COLUMNS]
    if funnel_parts:
        released["funnel_tabel"] = pd.concat(funnel_parts, ignore_index=True)

    # ---- the models behind the expected counts
    fits = []
    for level, res in dd.oe.models.items():
        params = run.check_model(for_output_check(res), name=f"oe_model_{level}", unit="jongeren",
                                 population=pop_key,
                                 description=f"logit of {mf.outcome} behind E ({level}), "
                                             "fitted on cell counts with frequency weights")
        released[f"oe_model_{level}"] = _with_odds(params).reset_index()
        fits.append({"model": f"oe_model_{level}", **model_fit(res)})

    # ---- gemeente effects
    if dd.effects is not None:
        try:
            released.update(_release_effects(run, dd, scope, hier, pop_key, fits, total,
                                             observed=released["oe"]))
        except DisclosureError as exc:
            # small gemeenten (a few youths with the outcome) block the fixed-effect tables;
            # the rest of the deep dive stands, and the report says why this part is absent
            dd.leave_out("effecten", "niet vrijgegeven door outputcontrole", str(exc),
                         label="gemeente-effecten")
    released["modelfit"] = pd.DataFrame(fits)

    # ---- decomposition and panel: like the effects, optional when output control blocks them
    if dd.decomposition is not None:
        try:
            released["decompositie"], released["decompositie_lpm"] = _release_decomposition(
                run, dd, pop_key)
        except DisclosureError as exc:
            dd.leave_out("decompositie", "niet vrijgegeven door outputcontrole", str(exc))
    if dd.panel is not None:
        try:
            released["panel"] = _release_panel(run, dd.panel)
        except DisclosureError as exc:
            dd.leave_out("panel", "niet vrijgegeven door outputcontrole", str(exc))

    for part, (kind, reason) in dd.left_out.items():  # in the export log, not only the text
        run.leave_out(part, reason, kind=kind)
    released = run.release_assembled(
        released, since=before, how="O/E and intervals from the released O counts and E "
        "statistics; effects, spread and decomposition from the released models")
    if write:
        run.export(out, released)
    return released


def _release_panel(run, pr: PanelResult) -> pd.DataFrame:
    """Release the wijkteam panel's parameters (fixed-effect levels counted in users)."""
    d = pr.data
    params = run.check_model(
        pr.result, name="panel", unit="gemeente-jaren",
        population=f"panel-{min(pr.notes['jaren'])}-{max(pr.notes['jaren'])}",
        n_per_level={"entity (gemeentecode)": d.groupby("gemeentecode")["gebruikers"]
                     .sum().astype(int),
                     "time (jaar)": d.groupby("jaar")["gebruikers"].sum().astype(int)
                     .rename(index=str)},
        description=f"PanelOLS: met-verblijf share in Y on wijkteam share in Y-{pr.lag}, "
                    "gemeente and year effects, clustered by gemeente; fixed-effect "
                    "levels counted in youths with jeugdhulp")
    p = params.reset_index()
    p["lag_jaren"] = pr.lag
    p["gemeente_jaren"] = int(pr.result.nobs)
    p["gemeenten"] = pr.notes["gemeenten"]
    p["gewogen"] = pr.notes["weighted"]
    return p


def _release_effects(run, dd: DeepDive, scope: Scope, hier, pop_key: str, fits: list,
                     total: str, observed: pd.DataFrame | None = None
                     ) -> dict[str, pd.DataFrame]:
    """Release the gemeente means behind the effects and the LPM/logit parameter tables.

    ``observed``: the released O/E table. A share times the gemeente's youths (released
    elsewhere) is its observed count, so a share is blank wherever that count is."""
    eff = dd.effects
    mf = dd.frame
    person = eff.person_values
    leaves = scope.leaves(person["gemeentecode"]).to_numpy()
    share = run.stats_table(pd.DataFrame({"gemeentecode": leaves, mf.outcome: person["y"]}),
                            ["gemeentecode"], value=mf.outcome, stat="share",
                            name="effecten_aandeel", unit="jongeren", population=pop_key,
                            hierarchies=hier, description=f"share with {mf.outcome}")
    adj = run.stats_table(pd.DataFrame({"gemeentecode": leaves,
                                        "aangepast": person["aangepast"]}),
                          ["gemeentecode"], value="aangepast", stat="mean",
                          name="effecten_aangepast", unit="jongeren", population=pop_key,
                          hierarchies=hier,
                          description="mean of y - x'b (LPM covariates, gemeente absorbed)")
    share = scope.publish(share).set_index("gemeentecode")[f"share_{mf.outcome}"]
    adj = scope.publish(adj).set_index("gemeentecode")["mean_aangepast"]
    t = eff.table.set_index("gemeentecode")
    codes = [c for c in t.index if c in share.index]
    out = pd.DataFrame({"gemeentecode": codes})
    out["aandeel"] = share.reindex(codes).astype(float).to_numpy()
    out["ruw"] = out["aandeel"] - float(share[NATIONAL])
    out["se_ruw"] = t.loc[codes, "se_ruw"].to_numpy()
    out["aangepast"] = adj.reindex(codes).astype(float).to_numpy() - float(adj[NATIONAL])
    out["se_aangepast"] = t.loc[codes, "se_aangepast"].to_numpy()
    out["n"] = t.loc[codes, "n"].to_numpy()
    if observed is not None:
        o = observed.drop_duplicates("gemeentecode").set_index("gemeentecode")["waargenomen"]
        blank = o.reindex(out["gemeentecode"]).isna().to_numpy()
        out.loc[blank, "aandeel"] = np.nan
    hidden = out["aandeel"].isna() | out["aangepast"].isna()
    out.loc[hidden, ["ruw", "se_ruw", "aangepast", "se_aangepast"]] = np.nan
    spread = effect_spread(out[~hidden])
    tau2 = float(spread.set_index("effect").loc["aangepast", "tau2"])
    eb, sd = shrink(out["aangepast"].fillna(0), out["se_aangepast"].fillna(1), tau2)
    out["eb"] = np.where(hidden, np.nan, eb)
    out["eb_sd"] = np.where(hidden, np.nan, sd)
    out = out.drop(columns="n")
    lpm = run.check_model(eff.lpm, name="effecten_lpm", unit="jongeren", population=pop_key,
                          description=f"LPM of {mf.outcome}, gemeente absorbed, SEs clustered "
                                      f"by {eff.notes['cluster']}")
    logit = {}
    if eff.logit is not None:
        logit = run.check_model(for_output_check(eff.logit), name="effecten_logit", unit="jongeren",
                                population=pop_key,
                                n_per_level={"gemeentecode": mf.data["gemeentecode"]},
                                description=f"logit of {mf.outcome} with gemeente dummies "
                                            "(cell counts, frequency weights)")
        fits.append({"model": "effecten_logit", **model_fit(eff.logit)})
    fits.append({"model": "effecten_lpm", "personen": float(eff.lpm.nobs),
                 "parameters": int(eff.lpm.df_model), "df_resid": float(eff.lpm.df_resid),
                 "rsquared": float(eff.lpm.rsquared),
                 "rsquared_within": float(getattr(eff.lpm, "rsquared_within", np.nan))})
    res = {"effecten": out, "spreiding": spread, "effecten_lpm": lpm.reset_index()}
    if eff.logit is not None:
        res["effecten_logit"] = _with_odds(logit).reset_index()
    return res


def _release_decomposition(run, dd: DeepDive, pop_key: str
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the decomposition (empty values unless both sides' shares pass output control)
    and the pooled LPM's parameter table."""
    dec = dd.decomposition
    s = dec.sample
    label = (next(iter(dd.groups)) if dd.groups and "vergelijking" not in dd.notes
             else "rest van Nederland")
    shares = run.stats_table(s.assign(uitkomst=s["y"]), ["kant"], value="uitkomst",
                             stat="share", name="decompositie_aandeel", unit="jongeren",
                             population=f"{pop_key}-decompositie-{dd.gemeente}",
                             description=f"{dd.frame.outcome}: gemeente {dd.gemeente} and "
                                         f"comparison ({label}) in the decomposition")
    ok = shares["share_uitkomst"].notna().all()
    pooled = run.check_model(dec.pooled, name="decompositie_lpm", unit="jongeren",
                             population=f"{pop_key}-decompositie-{dd.gemeente}",
                             description="pooled LPM (with group dummy) of the Oaxaca-Blinder "
                                         "decomposition; SEs clustered by household")
    t = dec.table.copy()
    t.insert(1, "vergelijking", label)
    if not ok:
        t[["waarde", "aandeel_van_verschil", "ondergrens", "bovengrens", "se_bootstrap"]] = \
            np.nan
    return t, pooled.reset_index()


def cli_deepdive(args) -> int:
    """Run `jeugdkit deepdive`: the trap-2 deep dive of a period, output-controlled."""
    from jeugdkit.deepdive.panel import build_panel
    from jeugdkit.population import build_population
    from jeugdkit.read import reader_from_args
    from jeugdkit.tables import ledger_from_args, scope_from_args
    settings = Settings.load(getattr(args, "settings", None))
    reader = reader_from_args(args, settings)
    # --gemeente alone compares with its stedelijkheid group, as `jeugdkit tables` does
    scope = scope_from_args(args, reader.data_root, settings)
    groups = {scope.group_label: list(scope.group)} if scope.group else None
    pop = build_population(reader, args.period, settings=settings)
    ages = None
    if args.ages:
        try:
            lo, hi = (int(v) for v in args.ages.split("-"))
        except ValueError as exc:
            raise JeugdkitError(f"--ages {args.ages!r}: expected e.g. 0-17") from exc
        ages = (lo, hi)
    panel = None
    if not args.no_panel:
        years = [y for y in reader.inventory["JGDHULPBUS"].years
                 if y <= pop.period.peildatum.year]
        panel = build_panel(reader, years, classification_year=pop.classification_year,
                            settings=settings)
    dd = deep_dive(pop, gemeente=args.gemeente, groups=groups, outcome=args.outcome,
                   ages=ages, cluster=args.cluster, replicates=args.replicates, panel=panel,
                   lag=args.lag, settings=settings)
    released = release_deep_dive(dd, args.out, settings=settings,
                                 ledger=ledger_from_args(args, pop.period.label))
    out = Path(args.out)
    for name, frame in released.items():
        print(f"wrote {out / (name + '.csv')} ({len(frame)} rows)")
    for note in dd.notes.values():
        print(f"note: {note}", file=sys.stderr)
    print(f"export log in {out / 'log'} (keep it in the RA for the checker)")
    return 0
