"""The dashboard's words in English and Dutch, in the glossary's terms (docs/glossary.md): opleiding,
minimaal dekkend aanbod, PPS, LLO, moeilijk vervulbare vacature, … Sector names come from
``data/sectors.csv`` (``name_en``, ``name_nl``)."""

from __future__ import annotations

from functools import cache

import pandas as pd

from sim.io.loaders import PACKAGE_DATA_DIR

LANGUAGES = {"en": "English", "nl": "Nederlands"}

TEXT: dict[str, tuple[str, str]] = {  # key: (English, Dutch)
    "title": ("mbo-sim — which opleidingen survive, where shortages grow",
              "mbo-sim — welke opleidingen blijven, waar tekorten groeien"),
    "intro": ("Choose a region, a demographic and economic scenario and levers; run; compare the run without "
              "levers with the run with them, replicate by replicate (the same random numbers in both).",
              "Kies een regio, een demografisch en economisch scenario en maatregelen; start; vergelijk de "
              "run zonder maatregelen met de run mét, replicatie voor replicatie (in beide dezelfde toevalsgetallen)."),
    "language": ("Language", "Taal"),
    "tab_run": ("Run a scenario", "Scenario doorrekenen"),
    "tab_browse": ("Browse results", "Resultaten bekijken"),
    "region": ("Region", "Regio"),
    "demography": ("Demography", "Demografie"),
    "economy": ("Economy", "Economie"),
    "levers": ("Levers (several at once)", "Maatregelen (meerdere tegelijk)"),
    "lever_params": ("Parameters of {lever}", "Parameters van {lever}"),
    "reps": ("Replications", "Replicaties"),
    "scale": ("Scale (share of residents simulated)", "Schaal (deel van de inwoners gesimuleerd)"),
    "years": ("Years", "Jaren"),
    "seed": ("Seed", "Seed (startgetal toeval)"),
    "havo_shift": ("Shift from vmbo to havo/vwo (fall of the chance of mbo, a year)",
                   "Verschuiving van vmbo naar havo/vwo (daling van de kans op mbo, per jaar)"),
    "range_default": ("allowed {lo} to {hi}; default {default}", "toegestaan {lo} tot {hi}; standaard {default}"),
    "default_only": ("default {default}", "standaard {default}"),
    "cost": ("Size of this run: scale × replications × years × arms = {cost:g} (at most {budget}).",
             "Omvang van deze run: schaal × replicaties × jaren × varianten = {cost:g} (hoogstens {budget})."),
    "run": ("Run", "Start"),
    "cancel": ("Cancel", "Afbreken"),
    "refused": ("Not run: {message}", "Niet gestart: {message}"),
    "busy": ("A run of this session is still going; wait for it or cancel it.",
             "Een run van deze sessie loopt nog; wacht of breek hem af."),
    "progress": ("Running {n} runs: {pct:.0f} % ({seconds:.0f} s)", "{n} runs bezig: {pct:.0f} % ({seconds:.0f} s)"),
    "finished": ("Finished in {seconds:.1f} s: {folder}", "Klaar in {seconds:.1f} s: {folder}"),
    "failed": ("The run failed: {error}", "De run is mislukt: {error}"),
    "cancelled": ("Cancelled; nothing half-written is left.", "Afgebroken; er blijft niets half geschreven achter."),
    "commands": ("The same runs on the command line", "Dezelfde runs op de opdrachtregel"),
    "no_run_yet": ("No run in this session yet.", "Nog geen run in deze sessie."),
    "comparison": ("Without and with the levers (paired by replicate, 95 % confidence intervals)",
                   "Zonder en met de maatregelen (gepaard per replicatie, 95%-betrouwbaarheidsintervallen)"),
    "single_arm": ("No lever chosen: one arm, nothing to compare.", "Geen maatregel gekozen: één variant, "
                   "niets te vergelijken."),
    "ci": ("95 % CI {low} to {high}", "95%-BI {low} tot {high}"),
    "no_ci": ("one replication: no confidence interval", "één replicatie: geen betrouwbaarheidsinterval"),
    "metric": ("measure", "maat"),
    "without": ("without levers (mean)", "zonder maatregelen (gemiddeld)"),
    "with": ("with levers (mean)", "met maatregelen (gemiddeld)"),
    "difference": ("difference", "verschil"),
    "ci_low": ("95 % CI low", "95%-BI onder"),
    "ci_high": ("95 % CI high", "95%-BI boven"),
    "pairs": ("pairs", "paren"),
    "in_words": ("in words", "in woorden"),
    "arm": ("arm", "variant"),
    "arm_none": ("without levers", "zonder maatregelen"),
    "arm_with": ("with {levers}", "met {levers}"),
    "download": ("Download as CSV", "Download als CSV"),
    "view_survival": ("Programme survival", "Overleving van opleidingen"),
    "view_closures": ("Closing opleidingen", "Sluitende opleidingen"),
    "view_coverage": ("Coverage map", "Bereikbaarheidskaart"),
    "view_shortage": ("Shortages", "Tekorten"),
    "view_intake": ("Intake", "Instroom"),
    "view_costs": ("Lever costs", "Kosten van maatregelen"),
    "answers_survival": ("Which share of the region's opleidingen is still open, year by year, per sector?",
                         "Welk deel van de opleidingen in de regio is per sector, jaar na jaar, nog open?"),
    "answers_closures": ("Which opleidingen close (or are bundled), when, where and at which institution?",
                         "Welke opleidingen sluiten (of worden gebundeld), wanneer, waar en bij welke instelling?"),
    "answers_coverage": ("How many minutes is the nearest open opleiding of a sector from each municipality, "
                         "at the start and at the end?",
                         "Hoeveel minuten reizen is de dichtstbijzijnde open opleiding van een sector vanuit elke "
                         "gemeente, aan het begin en aan het eind?"),
    "answers_shortage": ("Where do hard-to-fill vacancies and unmet demand grow?",
                         "Waar groeien moeilijk vervulbare vacatures en onvervulde vraag?"),
    "answers_intake": ("How many new mbo students does each sector get each school year?",
                       "Hoeveel nieuwe mbo-studenten krijgt elke sector per schooljaar?"),
    "answers_costs": ("What does each lever cost each year?", "Wat kost elke maatregel per jaar?"),
    "sector": ("Sector", "Sector"),
    "measure": ("Measure", "Maat"),
    "hard_to_fill": ("hard-to-fill vacancies", "moeilijk vervulbare vacatures"),
    "unmet_demand": ("unmet demand", "onvervulde vraag"),
    "fig_survival": ("Programme survival by sector — {region}", "Overleving van opleidingen per sector — {region}"),
    "fig_intake": ("mbo intake by sector — {region}", "Instroom in het mbo per sector — {region}"),
    "fig_hard_to_fill": ("Hard-to-fill vacancies by sector — {region}",
                         "Moeilijk vervulbare vacatures per sector — {region}"),
    "fig_unmet_demand": ("Unmet labour demand by sector — {region}",
                         "Onvervulde vraag naar arbeid per sector — {region}"),
    "fig_closures": ("Opleidingen closed or bundled since the start — {region}",
                     "Opleidingen gesloten of gebundeld sinds de start — {region}"),
    "fig_costs": ("Cost of each lever — {region}", "Kosten per maatregel — {region}"),
    "fig_coverage": ("Access to {sector} opleidingen — {region}, {arm}, mean over replications",
                     "Bereikbaarheid van opleidingen {sector} — {region}, {arm}, gemiddeld over replicaties"),
    "cbar_coverage": ("minutes to the nearest open opleiding (grey: none open)",
                      "minuten tot de dichtstbijzijnde open opleiding (grijs: geen open)"),
    "x_years_since_start": ("years since the start", "jaren sinds de start"),
    "x_school_year": ("school year (starting September)", "schooljaar (start in september)"),
    "x_year": ("year", "jaar"),
    "x_lon": ("longitude (°E)", "lengtegraad (°O)"),
    "y_lat": ("latitude (°N)", "breedtegraad (°N)"),
    "y_survival": ("share of opleidingen still open (Kaplan–Meier, 95 % band)",
                   "deel van de opleidingen nog open (Kaplan–Meier, 95%-band)"),
    "y_intake": ("new mbo students (persons a year; median, 5–95 % over replications)",
                 "nieuwe mbo-studenten (personen per jaar; mediaan, 5–95 % over replicaties)"),
    "y_hard_to_fill": ("hard-to-fill vacancies (mean a month; median, 5–95 % over replications)",
                       "moeilijk vervulbare vacatures (gemiddeld per maand; mediaan, 5–95 % over replicaties)"),
    "y_unmet_demand": ("unmet demand (persons, mean a month; median, 5–95 % over replications)",
                       "onvervulde vraag (personen, gemiddeld per maand; mediaan, 5–95 % over replicaties)"),
    "y_closures": ("opleidingen closed or bundled (cumulative, mean over replications)",
                   "gesloten of gebundelde opleidingen (cumulatief, gemiddeld over replicaties)"),
    "y_costs": ("cost (million euro a year, mean over replications)",
                "kosten (miljoen euro per jaar, gemiddeld over replicaties)"),
    "no_costs": ("no lever with costs in this run", "geen maatregel met kosten in deze run"),
    "coverage_arm": ("Arm", "Variant"),
    "browse_pick": ("Experiment folder under results/", "Experimentmap onder results/"),
    "browse_none": ("No experiment folders under {root} yet.", "Nog geen experimentmappen onder {root}."),
    "browse_report": ("Report figures (mbo-sim-report)", "Figuren van het rapport (mbo-sim-report)"),
    "browse_no_report": ("This folder has no report yet: `mbo-sim-report {folder}` writes it.",
                         "Deze map heeft nog geen rapport: `mbo-sim-report {folder}` maakt het."),
    "browse_summary": ("summary.parquet: one row per run", "summary.parquet: één rij per run"),
    "browse_filter": ("Filter {column}", "Filter {column}"),
    "browse_no_summary": ("No summary.parquet here; shown from the runs' summaries.",
                          "Geen summary.parquet hier; getoond uit de samenvattingen van de runs."),
    "browse_outcomes": ("Figures of this folder", "Figuren van deze map"),
    # the compared metrics
    "m_closures": ("opleidingen closed by {end}", "gesloten opleidingen t/m {end}"),
    "m_bundled_programmes": ("opleidingen bundled by {end}", "gebundelde opleidingen t/m {end}"),
    "m_programmes_open_end": ("opleidingen open in {end}", "open opleidingen in {end}"),
    "m_coverage_min_end": ("lowest coverage in {end} (percentage points of school leavers within reach)",
                           "laagste dekking in {end} (procentpunt van de schoolverlaters binnen bereik)"),
    "m_hard_to_fill_end": ("hard-to-fill vacancies, December {end}", "moeilijk vervulbare vacatures, december {end}"),
    "m_unmet_demand_care": ("unmet demand in care from 2030 (person-years a year)",
                            "onvervulde vraag in de zorg vanaf 2030 (persoonsjaren per jaar)"),
    "m_unmet_demand_technical": ("unmet demand in technical from 2030 (person-years a year)",
                                 "onvervulde vraag in de techniek vanaf 2030 (persoonsjaren per jaar)"),
    "m_policy_cost_eur": ("lever costs, all years (euro)", "kosten van maatregelen, alle jaren (euro)"),
    "m_llo_trajectories": ("LLO trajectories started", "gestarte LLO-trajecten"),
    "m_mean_intake_travel_minutes": ("mean travel time of new students (minutes)",
                                     "gemiddelde reistijd van nieuwe studenten (minuten)"),
    # levers and their parameters
    "l_minimal_coverage": ("minimal coverage (minimaal dekkend aanbod)", "minimaal dekkend aanbod"),
    "l_pps": ("public-private partnership (PPS)", "publiek-private samenwerking (PPS)"),
    "l_llo_vouchers": ("LLO learning vouchers", "LLO-leerbudgetten (vouchers)"),
    "l_bundling": ("bundling", "bundelen"),
    "l_integrated_governance": ("integrated regional governance", "geïntegreerde regionale governance"),
    "l_image": ("sector image", "imago van een sector"),
    "l_numerus_fixus": ("numerus fixus and LOB", "numerus fixus en LOB"),
    "l_procurement": ("procurement as partner", "inkoop als partner"),
    "p_share": ("share of school leavers within reach", "deel van de schoolverlaters binnen bereik"),
    "p_per_level": ("per level (1–4)", "per niveau (1–4)"),
    "p_organised.technical": ("organised share, technical", "georganiseerd deel, techniek"),
    "p_organised.care": ("organised share, care", "georganiseerd deel, zorg"),
    "p_annual_budget_eur": ("yearly budget (euro)", "jaarbudget (euro)"),
    "p_voucher_eur": ("voucher (euro)", "voucher (euro)"),
    "p_uptake": ("yearly uptake (share of the eligible)", "jaarlijks gebruik (deel van de rechthebbenden)"),
    "p_min_age": ("minimum age", "minimumleeftijd"),
    "p_max_age": ("maximum age", "maximumleeftijd"),
    "p_max_extra_minutes": ("extra travel to the partner (minutes)", "extra reistijd naar de partner (minuten)"),
    "p_across_levels": ("across levels", "over niveaus heen"),
    "p_across_sites": ("across sites", "over locaties heen"),
    "p_across_institutions": ("across institutions", "over instellingen heen"),
    "p_llo_reach_factor": ("LLO reach (factor)", "bereik LLO (factor)"),
    "p_matching_factor": ("matching efficiency (factor)", "efficiëntie van matching (factor)"),
    "p_overhead_reduction": ("cut in coordination overhead (share)", "minder coördinatielast (deel)"),
    "p_start_year": ("from year", "vanaf jaar"),
    "p_image_change.care": ("image change, care (utility units)", "verandering imago zorg (nutseenheden)"),
    "p_cap_share": ("cap (share of base-year intake)", "plafond (deel van de instroom in het basisjaar)"),
    "p_lob_steering": ("LOB steering towards prospects", "LOB-sturing op arbeidsmarktperspectief"),
    "p_mbo_share": ("share bought from the mbo", "deel ingekocht bij het mbo"),
    # scenario names
    "s_baseline": ("baseline", "basis"),
    "s_mild_decline": ("mild decline", "lichte krimp"),
    "s_strong_decline": ("strong decline", "sterke krimp"),
    "s_recession": ("recession", "recessie"),
    "s_transition": ("transition", "transitie"),
    "r_achterhoek": ("Achterhoek", "Achterhoek"),
    "r_zeeland": ("Zeeland", "Zeeland"),
    "r_zuid_limburg": ("Zuid-Limburg", "Zuid-Limburg"),
}


@cache
def _sector_names() -> pd.DataFrame:
    return pd.read_csv(PACKAGE_DATA_DIR / "sectors.csv", comment="#").set_index("sector")


class Text:
    """``text(key, **values)``: the words of ``key`` in the language, with ``values`` filled in."""

    def __init__(self, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r}: allowed {sorted(LANGUAGES)}")
        self.lang = lang
        self._i = 0 if lang == "en" else 1

    def __call__(self, key: str, **values: object) -> str:
        words = TEXT[key][self._i]
        return words.format(**values) if values else words

    def get(self, key: str, fallback: str) -> str:
        return TEXT[key][self._i] if key in TEXT else fallback

    def metric(self, name: str, end: int) -> str:
        return self.get(f"m_{name}", name).format(end=end)

    def lever(self, name: str) -> str:
        return self.get(f"l_{name}", name)

    def param(self, key: str) -> str:
        return self.get(f"p_{key}", key)

    def choice(self, name: str) -> str:
        """A region or scenario name."""
        return self.get(f"r_{name}", self.get(f"s_{name}", name))

    def arm(self, arm: str) -> str:
        """``none`` → without levers; ``a+b`` → with <a>, <b>."""
        if arm in ("none", "all"):
            return self("arm_none")
        return self("arm_with", levers=", ".join(self.lever(x) for x in arm.split("+")))

    def sectors(self) -> dict[str, str]:
        col = "name_en" if self.lang == "en" else "name_nl"
        return _sector_names()[col].to_dict()
