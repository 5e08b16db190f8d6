"""The Hydra glue: where the configs are, the schema, and composing a validated :class:`Config`.

The config files ship inside the package (``sim/configs/``, with the named experiments in
``sim/configs/experiment/``), so an installed wheel finds them as a source checkout does. This
module may import both the schema (:mod:`sim.config`) and the policy levers, which check their
own parameters here, once the :class:`Config` is built.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, get_type_hints

from omegaconf import DictConfig, OmegaConf

from sim.config import Config, ConfigError
from sim.policies import build_policies

CONFIG_DIR = Path(str(files("sim") / "configs"))


def _reject_unknown_keys(node: Any, schema: type, path: str) -> None:
    """Keys added with Hydra's ``+key=value`` bypass the schema's struct check: refuse them."""
    if not isinstance(node, DictConfig):
        return
    hints = get_type_hints(schema)
    allowed = {f.name for f in fields(schema)}
    for key in node.keys():
        full = f"{path}.{key}" if path else str(key)
        if key not in allowed:
            raise ConfigError(f"{full}: unknown key; allowed keys here: {sorted(allowed)}")
        sub = hints.get(key)
        if is_dataclass(sub):
            _reject_unknown_keys(node[key], sub, full)


def to_config(cfg: Any) -> Config:
    """Turn a composed DictConfig into a validated :class:`Config` (range errors name the key)."""
    if isinstance(cfg, Config):
        return cfg
    _reject_unknown_keys(cfg, Config, "")
    if cfg.get("sample") is not None:  # a run of a sensitivity design: set its row's values first
        from sim.samples import apply_sample

        apply_sample(cfg)
    try:
        obj = OmegaConf.to_object(cfg)
    except ConfigError:
        raise
    except Exception as exc:  # omegaconf validation errors carry the full key
        raise ConfigError(str(exc).strip()) from None
    if not isinstance(obj, Config):  # composed without the schema
        obj = Config(**obj)
    build_policies(obj.policy)  # each lever checks its parameters (ConfigError naming the key)
    return obj


def _levers(value: Any) -> list[str]:
    """The lever names of a ``policy`` override value (a name or a list of names)."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def check_overrides(overrides: list[str]) -> None:
    """Refuse, with one line naming the key, what Hydra would accept silently or report badly:
    a lever listed twice (``policy=[pps,pps]``), a lever parameter whose lever is not selected
    (``policy.minimal_coverage.share=0.5`` without ``policy=minimal_coverage``), and ``reps`` that is
    not a whole number >= 1 (``reps=0`` would run an empty sweep)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except Exception:  # Hydra reports its own syntax errors, naming the override
        return
    for o in parsed:  # reps=0 would run an empty sweep and exit 0; reps=x would fail in Hydra's words
        if o.key_or_group == "reps":
            for v in list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]:
                if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                    raise ConfigError(f"{o.input_line}: reps must be a whole number >= 1 (replications of each arm)")
    selected: set[str] = {"none"}  # the default of the policy group
    decided_elsewhere = False  # an experiment sets the levers of its sweep
    for o in parsed:
        if o.key_or_group == "experiment":
            decided_elsewhere = True
        if o.key_or_group != "policy":
            continue
        choices = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
        selected = set()
        for choice in choices:
            names = _levers(choice)
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ConfigError(f"{o.input_line}: lever {twice[0]!r} is listed twice; list each lever once")
            selected.update(names)
    if decided_elsewhere:
        return
    for o in parsed:
        parts = o.key_or_group.split(".")
        if parts[0] == "policy" and len(parts) > 2 and not o.is_add() and parts[1] not in selected:
            raise ConfigError(f"{o.key_or_group}: lever {parts[1]!r} is not selected; select it with "
                              f"policy={parts[1]} (several: 'policy=[{parts[1]},...]') and set its parameters after it")


def compose(overrides: list[str] | None = None, config_dir: str | Path | None = None) -> Config:
    """Compose ``configs/config.yaml`` with Hydra-style overrides, without running an app.

    The programmatic twin of the ``mbo-sim`` command, for tests and notebooks.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_schema()
    check_overrides(list(overrides or []))
    try:
        with initialize_config_dir(config_dir=str(config_dir or CONFIG_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides or []))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(str(exc).strip()) from None
    return to_config(cfg)


_registered: list[type] = []  # the schema class stored in Hydra's ConfigStore, once per process


def register_schema() -> None:
    """Store the schema in Hydra's ConfigStore: once per process (converting it takes 25 ms, which
    every :func:`compose` paid again); again only if :class:`Config` is another class (a reload)."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    if _registered == [Config] and "schema.yaml" in store.repo:
        return
    store.store(name="schema", node=Config)
    _registered[:] = [Config]
