"""``mbo-sim-sensitivity``: sample the registry, run the sweep through Hydra, analyse.

    mbo-sim-sensitivity morris --region zeeland --trajectories 10 --scale 0.25 --jobs 2
    mbo-sim-sensitivity sobol --region zeeland --n 256 --top 6 --from results/sensitivity_morris_zeeland
    mbo-sim-sensitivity lhs --region zeeland --n 200          # a space-filling design for discovery
    mbo-sim-sensitivity analyse results/sensitivity_morris_zeeland
    mbo-sim-sensitivity discover results/sensitivity_lhs_zeeland
    mbo-sim-sensitivity morris --region zeeland -- hydra/launcher=slurm hydra.launcher.partition=normal

Each design lives in ``results/<name>/`` (default name ``sensitivity_<method>_<region>``):
``design/`` (design.json, samples.csv), ``runs/`` (one folder per sample × arm × replicate, named
from the overrides, resumable), ``analysis/`` and ``discovery/``. Rerunning the same command resumes;
a different design under the same name is refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from sim.config import ConfigError
from sim.io.safe import UnsafeOutput, atomic_folder
from sim.regions import REGIONS
from sim.samples import read_design
from sim.sensitivity.design import METHODS, design_dict, sample, write_design
from sim.sensitivity.registry import REGISTRY, load_registry, select

BASE_YEAR_SHIFT = 0.02  # --top leaves out parameters that move base-year intake by more than 2 % (μ*)


def top_parameters(morris_dir: Path, k: int) -> list[str]:
    """The ``k`` parameters with the largest μ*, relative to each output's largest and averaged over
    the outputs, among those that keep the calibrated base year: a parameter whose μ* on the first
    year's intake exceeds 2 % of it acts mostly through the misfit it causes (docs/ODD.md,
    Sensitivity analysis) and is left out."""
    import pandas as pd

    path = Path(morris_dir) / "analysis" / "morris_indices.csv"
    if not path.is_file():
        raise ConfigError(f"--from {morris_dir}: no analysis/morris_indices.csv (run the Morris design first)")
    idx = pd.read_csv(path)
    intake = idx[idx["output"] == "intake_first_year"].set_index("parameter")["mu_star"]
    level = pd.read_csv(Path(morris_dir) / "analysis" / "outputs.csv")["intake_first_year"].mean()
    shifting = set(intake[intake > BASE_YEAR_SHIFT * level].index)
    idx = idx[(idx["output"] != "intake_first_year") & ~idx["parameter"].isin(shifting)]
    rel = idx["mu_star"] / idx.groupby("output")["mu_star"].transform("max")
    return list(idx.assign(rel=rel).groupby("parameter")["rel"].mean().nlargest(k).index)


def prepare(args: argparse.Namespace) -> tuple[Path, int]:
    """Write (or reuse) the design folder; returns it and the number of samples."""
    params, _ = load_registry(args.registry)
    levers = set(args.levers)
    keys = None
    if args.params:
        keys = [k.strip() for k in args.params.split(",") if k.strip()]
    elif getattr(args, "top", None):
        keys = top_parameters(Path(args.from_dir), args.top)
    chosen = select(params, levers, keys)
    n = args.trajectories if args.method == "morris" else args.n
    settings = {"region": args.region, "scale": args.scale, "years": args.years, "seed": args.seed, "n": n,
                "levels": args.levels, "arms": ["none", *sorted(levers)],
                "overrides": [o for o in args.overrides if not o.startswith(("hydra.", "hydra/"))],  # model ones
                "reps": args.reps, "noise_reps": args.noise_reps}
    x = sample(args.method, chosen, n, args.seed, args.levels)
    design = design_dict(args.method, chosen, x, settings)
    folder = Path(args.output) / args.name / "design"
    if (folder / "design.json").is_file():
        old = read_design(folder / "design.json")
        same = {k: old[k] for k in ("method", "settings", "parameters", "samples")} == json.loads(json.dumps(
            {k: design[k] for k in ("method", "settings", "parameters", "samples")}))
        if not same:
            raise UnsafeOutput(f"{folder} holds another design (method, settings, parameters or samples differ); "
                               f"choose another --name, or remove {folder.parent} to start over")
        print(f"design: {folder / 'design.json'} (exists, reused: {len(x)} samples)")
        return folder / "design.json", len(x)
    atomic_folder(folder, lambda tmp: write_design(tmp, design))
    print(f"design: {folder / 'design.json'} ({len(x)} samples of {len(chosen)} parameters)")
    return folder / "design.json", len(x)


def sweep_command(args: argparse.Namespace, design: Path, samples: str, replicates: str) -> list[str]:
    """The Hydra sweep of ``samples`` × ``replicates`` (sweep syntax) × arms of the design."""
    arms = ",".join(["none", *sorted(args.levers)])
    cmd = [sys.executable, "-m", "sim.cli", "-m", "+experiment=_sensitivity", f"experiment_name={args.name}",
           f"output_dir={Path(args.output) / args.name / 'runs'}",
           f"hydra.sweep.dir={Path(args.output) / args.name / '.hydra'}",
           f"samples_file={design.resolve()}", f"sample={samples}", f"replicate={replicates}",
           f"policy={arms}", f"region={args.region}", f"scale={args.scale}",
           f"years={args.years}", f"seed={args.seed}"]
    launcher = [o for o in args.overrides if o.startswith("hydra/launcher=")]
    if not launcher:
        cmd += [f"hydra/launcher={args.launcher}"]
    if (launcher[-1].split("=", 1)[1] if launcher else args.launcher) == "joblib":
        cmd += [f"hydra.launcher.n_jobs={args.jobs}"]
    return cmd + list(args.overrides)


def run(args: argparse.Namespace) -> int:
    if args.region not in REGIONS:
        raise ConfigError(f"--region {args.region!r}: unknown region; allowed: {list(REGIONS)}")
    if not 0 < args.scale <= 1:
        raise ConfigError(f"--scale {args.scale}: must be in (0, 1]")
    if args.reps < 1:
        raise ConfigError(f"--reps {args.reps}: must be >= 1")
    from sim.policies import POLICIES

    args.levers = [lever for lever in dict.fromkeys(args.levers) if lever != "none"]
    unknown = [lever for lever in args.levers if lever not in POLICIES]
    if unknown:
        raise ConfigError(f"--levers {unknown[0]!r}: unknown lever; allowed: {sorted(POLICIES)} (or none)")
    args.name = args.name or f"sensitivity_{args.method}_{args.region}"
    if args.reps == 1 and args.noise_reps == 1:
        raise ConfigError("--noise-reps 1: needs 0 (no noise estimate) or >= 2 replicates")
    design, n = prepare(args)
    arms = 1 + len(args.levers)
    # the replication noise first (sample 0's extra replicates; with --reps >= 2 every sample has them),
    # then the design; the analysis is written when the design's sweep ends
    sweeps = []
    if args.reps == 1 and args.noise_reps >= 2:  # (no analysis at its end: the design is still to run)
        sweeps.append(("noise", [*sweep_command(args, design, "0", f"range(1,{args.noise_reps})"),
                                 "~hydra.callbacks.report"], (args.noise_reps - 1) * arms))
    sweeps.append(("design", sweep_command(args, design, f"range(0,{n})", f"range(0,{args.reps})"),
                   n * args.reps * arms))
    for what, cmd, runs in sweeps:
        print(f"sweep ({what}): {runs} runs", flush=True)
        if args.dry_run:
            print(" ".join(cmd))
            continue
        t0 = time.perf_counter()
        code = subprocess.call(cmd)
        print(f"sweep ({what}) wall time: {time.perf_counter() - t0:.0f} s", flush=True)
        if code:
            return code
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, overrides = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="mbo-sim-sensitivity", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for method in METHODS:
        p = sub.add_parser(method, help={"morris": "screen every parameter (elementary effects)",
                                         "sobol": "Sobol' indices of a few parameters",
                                         "lhs": "Latin hypercube of every parameter (for discover)"}[method])
        p.add_argument("--region", default="zeeland", help=f"one of {list(REGIONS)} (default zeeland)")
        p.add_argument("--scale", type=float, default=0.25, help="share of residents simulated (default 0.25)")
        p.add_argument("--years", type=int, default=21, help="horizon in years from 2025 (default 21: to 2045)")
        p.add_argument("--reps", type=int, default=1,
                       help="replicates per sample, seeds seed … seed+reps−1 (default 1)")
        p.add_argument("--noise-reps", type=int, default=10,
                       help="with --reps 1: replicates of sample 0 that measure the replication noise (default 10)")
        p.add_argument("--seed", type=int, default=1, help="seed of the runs and of the sampling (default 1)")
        p.add_argument("--levers", nargs="*", default=["minimal_coverage"],
                       help="levers run beside 'none', each alone (default minimal_coverage; none: only 'none')")
        p.add_argument("--params", help="comma-separated registry keys to sample (default: all that act)")
        p.add_argument("--levels", type=int, default=4, help="Morris grid levels (default 4)")
        if method == "morris":
            p.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (default 10)")
        else:
            p.add_argument("--n", type=int, default=256 if method == "sobol" else 200,
                           help="base sample size (Sobol': a power of 2, default 256) or samples (LHS: default 200)")
        if method == "sobol":
            p.add_argument("--top", type=int, help="sample the top K parameters of a Morris design (--from)")
            p.add_argument("--from", dest="from_dir",
                           help="the Morris design's folder, e.g. results/sensitivity_morris_zeeland")
        p.add_argument("--jobs", type=int, default=2, help="parallel runs with the joblib launcher (default 2)")
        p.add_argument("--launcher", default="joblib", choices=["joblib", "slurm", "basic"],
                       help="Hydra launcher (default joblib; slurm: submitit array jobs)")
        p.add_argument("--name", help="folder under --output (default sensitivity_<method>_<region>)")
        p.add_argument("--output", default="results", help="parent folder (default results)")
        p.add_argument("--registry", default=str(REGISTRY), help="the registry of uncertain inputs")
        p.add_argument("--dry-run", action="store_true", help="write the design, print the sweep command, run nothing")
        p.set_defaults(method=method)
    a = sub.add_parser("analyse", help="(re)compute indices, figures and report.md of a design folder")
    a.add_argument("folder")
    d = sub.add_parser("discover", help="PRIM boxes and feature scores of a design folder (EMA Workbench)")
    d.add_argument("folder")
    d.add_argument("--cost-above", type=float,
                   help="€ per protected student-year (default: the design's 75th percentile)")
    d.add_argument("--care-closures-above", type=float,
                   help="care opleidingen closed by 2045 (default: the design's 75th percentile)")
    args = ap.parse_args(argv)
    args.overrides = overrides
    try:
        if args.command == "analyse":
            from sim.sensitivity.analysis import analyse

            print(f"analysis: {analyse(args.folder) / 'report.md'}")
            code = 0
        elif args.command == "discover":
            from sim.sensitivity.discover import discover

            thresholds = {k: v for k, v in (("cost", args.cost_above), ("care_closures", args.care_closures_above))
                          if v is not None}
            print(f"discovery: {discover(args.folder, thresholds) / 'discovery.md'}")
            code = 0
        else:
            if args.method == "sobol" and args.top and not args.from_dir:
                raise ConfigError("--top needs --from <a Morris design folder>")
            code = run(args)
    except (ConfigError, UnsafeOutput, FileNotFoundError, ValueError) as exc:
        print(f"mbo-sim-sensitivity: error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code)


if __name__ == "__main__":
    main()
