"""Gemeenten (with one merger), wijken, buurten and address objects."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.config import GEMEENTE_EFFECT_SD, GEMEENTE_OUTLIER, Options

_PREFIX = ["Ooster", "Wester", "Noorder", "Zuider", "Hoog", "Laag", "Nieuw", "Oud", "Groot",
           "Klein", "Berg", "Dal", "Veen", "Zand", "Bos", "Heide", "Molen", "Kerk", "Brug",
           "Water", "Linden", "Eiken", "Vlas", "Riet"]
_SUFFIX = ["veen", "wijk", "dorp", "horst", "broek", "hoven", "dam", "stein", "rade", "lo",
           "zijl", "wolde", "mond", "haven", "burg", "donk", "hem", "beek", "kamp", "rijp"]
PROVINCIES = ["Groningen", "Fryslân", "Drenthe", "Overijssel", "Flevoland", "Gelderland",
              "Utrecht", "Noord-Holland", "Zuid-Holland", "Zeeland", "Noord-Brabant", "Limburg"]


@dataclass
class Geography:
    """Base gemeenten (before the merger), their codes per year and the address objects."""

    opts: Options
    base_code: np.ndarray          # (nb,) 4-char codes of base gemeenten
    base_name: np.ndarray
    share: np.ndarray              # (nb,) population share used for placement
    deprivation: np.ndarray        # (nb,) tilt of low-SES households towards this gemeente
    merged: tuple[int, int]        # base indices that merge
    merged_code: str
    merged_name: str
    class_index: np.ndarray        # (nb,) base -> classification-year gemeente index
    class_code: np.ndarray         # (G,) classification-year codes
    class_name: np.ndarray
    effect: np.ndarray             # (G,) planted log-odds of jeugdhulp per class gemeente
    roles: dict                    # planted roles: outliers and composition gemeente
    wijkteam_level: np.ndarray     # (G,) planted wijkteam share at the middle year
    wijkteam_slope: np.ndarray     # (G,) change per year
    verblijf_effect: np.ndarray    # (G,) gemeente shift in met-verblijf probability
    stedelijkheid: np.ndarray      # (G,)
    jeugdregio: np.ndarray         # (G,)
    provincie: np.ndarray          # (G,)
    # wijken / buurten
    buurt_gem: np.ndarray          # (nbuurt,) base gemeente of each buurt
    buurt_wijk: np.ndarray         # (nbuurt,) wijk index within its base gemeente
    buurt_idx: np.ndarray          # (nbuurt,) buurt index within its wijk
    wijk_offset: np.ndarray        # (nb,) wijk numbering offset inside the merged gemeente
    # addresses
    addr_buurt: np.ndarray         # (naddr,) buurt of each address object
    addr_gem: np.ndarray           # (naddr,) base gemeente
    addr_nvb: np.ndarray           # (naddr,) bool: SOORTOBJECTNUMMER NVB
    addr_start: np.ndarray         # (nb,) first ordinary address of each gemeente
    addr_count: np.ndarray         # (nb,) ordinary addresses per gemeente
    inst_addr: np.ndarray          # (nb,) institution address of each gemeente

    @property
    def n_base(self) -> int:
        return len(self.base_code)

    def code_in_year(self, base_idx, year: int) -> np.ndarray:
        """Return the gemeentecode valid in `year` of base gemeenten."""
        codes = self.base_code[base_idx].astype(object)
        if year >= self.opts.merger_year:
            codes = np.where(np.isin(base_idx, self.merged), self.merged_code, codes)
        return codes

    def random_address(self, rng, base_idx) -> np.ndarray:
        """Return a random ordinary address object in each given base gemeente."""
        base_idx = np.asarray(base_idx)
        return self.addr_start[base_idx] + np.floor(
            rng.random(base_idx.shape) * self.addr_count[base_idx]).astype(np.int64)

    def choose_gemeente(self, rng, ses) -> np.ndarray:
        """Return a base gemeente per household: size-weighted, low SES tilted to deprived ones."""
        ses = np.asarray(ses, dtype=np.float64)
        out = np.empty(len(ses), dtype=np.int64)
        chunk = 200_000
        logw = np.log(self.share)
        for s in range(0, len(ses), chunk):
            z = logw[None, :] - 1.3 * ses[s:s + chunk, None] * self.deprivation[None, :]
            w = np.exp(z - z.max(axis=1, keepdims=True))
            c = np.cumsum(w, axis=1)
            u = rng.random(len(c)) * c[:, -1]
            out[s:s + chunk] = (c < u[:, None]).sum(axis=1)
        return out

    def vslgwb_columns(self, year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return gem, wc and bc codes of every address object in classification year `year`."""
        g = self.addr_gem
        b = self.addr_buurt
        gem = self.code_in_year(g, year)
        wijk = self.buurt_wijk[b]
        if year >= self.opts.merger_year:
            wijk = wijk + np.where(np.isin(g, self.merged), self.wijk_offset[g], 0)
        wc = np.char.add(gem.astype("U4"), np.char.zfill(wijk.astype("U2"), 2))
        bc = np.char.add(wc, np.char.zfill(self.buurt_idx[b].astype("U2"), 2))
        return gem, wc.astype(object), bc.astype(object)


def build_geography(opts: Options, rng: np.random.Generator) -> Geography:
    """Return gemeenten of very different sizes, one merger, planted gemeente effects."""
    G = opts.gemeenten
    nb = G + 1
    rank = np.arange(1, nb + 1)
    # Python floats, not numpy's power: numpy picks a SIMD kernel per CPU (AVX2, AVX-512, ...)
    # whose last bits differ, and the tree must be byte-identical on every machine.
    share = np.array([float(r) ** -1.15 for r in rank.tolist()])
    share = share / share.sum()
    codes = rng.choice(np.arange(3, 1990), size=nb + 1, replace=False)
    code_str = np.array([f"{c:04d}" for c in codes], dtype=object)
    names = _names(rng, nb + 1)
    base_code, merged_code = code_str[:nb], code_str[nb]
    base_name, merged_name = names[:nb], names[nb]
    # Two small (but not the smallest) gemeenten merge.
    a, b = (nb - 6, nb - 9) if nb >= 16 else (nb - 2, nb - 4)
    merged = (int(min(a, b)), int(max(a, b)))
    merged_name = f"{base_name[merged[0]]}-{base_name[merged[1]]}"
    keep = [i for i in range(nb) if i != merged[1]]
    class_index = np.empty(nb, dtype=np.int64)
    for ci, bi in enumerate(keep):
        class_index[bi] = ci
    class_index[merged[1]] = class_index[merged[0]]
    class_code = base_code[keep].copy()
    class_code[class_index[merged[0]]] = merged_code
    class_name = base_name[keep].copy()
    class_name[class_index[merged[0]]] = merged_name

    # Deprivation: big cities more deprived; one mid-sized gemeente very deprived (composition).
    deprivation = rng.normal(0.0, 0.5, nb) + 0.6 * (rank <= 3)
    composition_base = 2  # third largest
    deprivation[composition_base] = 1.6
    deprivation -= np.average(deprivation, weights=share)

    # Gemeente practice effects on jeugdhulp (class gemeenten).
    effect = np.clip(rng.normal(0.0, GEMEENTE_EFFECT_SD, G), -0.12, 0.12)
    comp = int(class_index[composition_base])
    candidates = [int(class_index[i]) for i in (1, 3, 4, 5, 6, 7, 8, 9)
                  if i < nb and i not in merged]
    order = rng.permutation(candidates)
    high, low = sorted(order[:2].tolist()), sorted(order[2:4].tolist())
    effect[high] = GEMEENTE_OUTLIER
    effect[low] = -GEMEENTE_OUTLIER
    effect[comp] = 0.0
    roles = {"high": high, "low": low, "composition": comp}

    wijkteam_level = rng.uniform(0.08, 0.24, G)
    wijkteam_slope = rng.uniform(-0.02, 0.035, G)
    verblijf_effect = np.clip(rng.normal(0.0, 0.01, G), -0.025, 0.025)

    # Reference table fields (classification year).
    class_share = np.bincount(class_index, weights=share, minlength=G)
    sted = np.select([class_share > 0.12, class_share > 0.05, class_share > 0.025,
                      class_share > 0.012], [1, 2, 3, 4], 5)
    n_regio = max(2, round(G / 6))
    by_size = np.argsort(-class_share, kind="stable")
    regio = np.empty(G, dtype=np.int64)
    regio[by_size[:n_regio]] = np.arange(n_regio)
    regio[by_size[n_regio:]] = rng.integers(0, n_regio, G - n_regio)
    regio_name = np.array([f"Jeugdregio {class_name[by_size[r]]}" for r in range(n_regio)],
                          dtype=object)
    regio_prov = rng.choice(len(PROVINCIES), n_regio, replace=False)
    provincie = np.array([PROVINCIES[regio_prov[r]] for r in regio], dtype=object)

    # Wijken and buurten, from expected inhabitants.
    inhabitants = share * opts.persons
    n_wijk = np.clip(np.round(inhabitants / 5000).astype(int), 1, 12)
    bg, bw, bi = [], [], []
    for g in range(nb):
        for w in range(n_wijk[g]):
            nbu = 1 + min(int(rng.poisson(2.0)), 6)
            bg += [g] * nbu
            bw += [w] * nbu
            bi += list(range(nbu))
    buurt_gem, buurt_wijk, buurt_idx = (np.array(x, dtype=np.int64) for x in (bg, bw, bi))
    wijk_offset = np.zeros(nb, dtype=np.int64)
    wijk_offset[merged[1]] = n_wijk[merged[0]]

    # Address objects: ordinary ones per gemeente, then one institution per gemeente.
    addr_count = np.ceil(inhabitants / 2.1 * 1.6).astype(np.int64) + 20
    addr_start = np.concatenate([[0], np.cumsum(addr_count)[:-1]])
    addr_gem = np.repeat(np.arange(nb), addr_count)
    addr_buurt = np.empty(len(addr_gem), dtype=np.int64)
    for g in range(nb):
        pool = np.flatnonzero(buurt_gem == g)
        sl = slice(addr_start[g], addr_start[g] + addr_count[g])
        addr_buurt[sl] = pool[rng.integers(0, len(pool), addr_count[g])]
    inst_addr = len(addr_gem) + np.arange(nb)
    inst_buurt = np.array([np.flatnonzero(buurt_gem == g)[0] for g in range(nb)])
    addr_gem = np.concatenate([addr_gem, np.arange(nb)])
    addr_buurt = np.concatenate([addr_buurt, inst_buurt])
    addr_nvb = rng.random(len(addr_gem)) < 0.02
    addr_nvb[inst_addr] = False

    return Geography(
        opts=opts, base_code=base_code, base_name=base_name, share=share,
        deprivation=deprivation, merged=merged, merged_code=merged_code,
        merged_name=merged_name, class_index=class_index, class_code=class_code,
        class_name=class_name, effect=effect, roles=roles, wijkteam_level=wijkteam_level,
        wijkteam_slope=wijkteam_slope, verblijf_effect=verblijf_effect, stedelijkheid=sted,
        jeugdregio=regio_name[regio], provincie=provincie, buurt_gem=buurt_gem,
        buurt_wijk=buurt_wijk, buurt_idx=buurt_idx, wijk_offset=wijk_offset,
        addr_buurt=addr_buurt, addr_gem=addr_gem, addr_nvb=addr_nvb, addr_start=addr_start,
        addr_count=addr_count, inst_addr=inst_addr,
    )


def _names(rng, n) -> np.ndarray:
    combos = [p + s for p in _PREFIX for s in _SUFFIX]
    pick = rng.choice(len(combos), size=n, replace=False)
    return np.array([combos[i] for i in pick], dtype=object)
