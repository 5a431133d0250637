"""Model files: which objective, which rules and which solver options to use, kept apart from the data.

As AMPL keeps ``.mod`` apart from ``.dat``, a model file (``models/*.yaml``) says *how* to plan, an instance file says
*what* is being planned. Command-line flags override a model file's solver options.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from allocopt.errors import ModelFileError, Problem
from allocopt.instance.explain import pydantic_problems, register_models
from allocopt.instance.partnership import NotBool, NotTiny
from allocopt.io.text import direction_problems

MAX_TIME_LIMIT = 1e7
"""Longest time limit accepted, in seconds (about 116 days): a larger one is surely a typo."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoSubsidyRule(_Strict):
    """Where allocopt decides the split of an initiative's value, each partner's share of the value equals its
    share of the money put in, within ``tolerance`` (a fraction of the value, e.g. 0.05 = five points)."""

    enabled: bool = True
    tolerance: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool, NotTiny] = 0.0


class ParticipationRule(_Strict):
    """Every partner's net gain is at least its stand-alone value (its outside option).

    ``true``: a hard rule (no plan at all if it cannot hold); ``"auto"`` (the default): first the smallest total
    shortfall below stand-alone any plan allows (zero wherever a plan lets every partner reach its stand-alone
    value), then the objective; the plan says which partner falls short and by how much; ``false``: off."""

    enabled: bool | Literal["auto"] = "auto"

    @property
    def hard(self) -> bool:
        return self.enabled is True

    @property
    def auto(self) -> bool:
        return self.enabled == "auto"


class ElasticSettings(_Strict):
    """Which rules an infeasibility diagnosis may suggest renegotiating, and how reluctantly (weights multiply
    the money-equivalent price of breaking a rule by one unit)."""

    soft: list[str] | None = Field(
        None, description="Families that may be relaxed (default: every renegotiable family)"
    )
    weights: dict[str, Annotated[float, Field(ge=1e-3, le=1e3, allow_inf_nan=False), NotBool]] = Field(
        default_factory=dict, description="Per family: weight of its price (default 1)"
    )


class Rules(_Strict):
    no_subsidy: NoSubsidyRule = Field(default_factory=NoSubsidyRule)
    participation: ParticipationRule = Field(default_factory=ParticipationRule)


class SolverOptions(_Strict):
    """Options handed to HiGHS. The seed and thread count are fixed by default so a plan is reproducible."""

    time_limit: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT, allow_inf_nan=False), NotBool] | None = Field(
        60.0, description="Seconds; the best plan found so far is returned with its gap"
    )
    rel_gap: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), NotBool] = Field(
        1e-6, description="Stop when the plan is proven within this fraction of the best possible"
    )
    threads: Annotated[int, Field(ge=1, le=256), NotBool] = 1
    random_seed: Annotated[int, Field(ge=0, le=2**31 - 1), NotBool] = 0
    highs_options: dict[str, bool | int | float | str] = Field(
        default_factory=dict, description="Any further HiGHS option, by its HiGHS name"
    )


class ObjectiveSpec(_Strict):
    """Which objective, with its parameters. A model file may give just the name (``objective: nash``) or a mapping
    (``objective: {name: alpha_fair, alpha: 2}``)."""

    name: str = Field("total_net_gain", description="Name of a registered objective")
    alpha: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = Field(
        None, description="alpha_fair only: 0 = utilitarian, 1 = nash, large values tend to max-min")
    tolerance: Annotated[float, Field(gt=0, le=0.1, allow_inf_nan=False)] = Field(
        1e-6, description="Nash, alpha-fair, max-min return: relative tolerance of the iterations")
    max_rounds: Annotated[int, Field(ge=1, le=10_000)] = Field(
        200, description="Nash, alpha-fair, max-min return: at most this many rounds of solves")

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    def label(self) -> str:
        """The objective as written on the command line: ``alpha_fair:alpha=2``."""
        return f"{self.name}:alpha={self.alpha:g}" if self.alpha is not None else self.name


class ModelSpec(_Strict):
    """A whole model file."""

    name: str = "default"
    description: str = ""
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec,
                                     description="The objective: a name, or a mapping with name and parameters")
    tie_break: Literal["leximin", "none"] = Field(
        "leximin", description="Among the plans that reach the objective's optimum, pick the leximin of the "
        "weighted gains above stand-alone (the most equal split): the same answer under any solver seed")
    rules: Rules = Field(default_factory=Rules)
    formulation: Literal["legacy", "strong"] = Field(
        "strong", description="How the rules are written as rows (the same optimum either way): legacy (as before "
        "issue 10), or strong (per-row no-subsidy constants from what each initiative can cost and earn, with the "
        "HiGHS search options that go with them: faster on the benchmark family)")
    solver: SolverOptions = Field(default_factory=SolverOptions)
    elastic: ElasticSettings = Field(default_factory=ElasticSettings)

    def with_solver(self, **overrides: Any) -> ModelSpec:
        """A copy with some solver options replaced (``None`` values are ignored)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        try:
            solver = SolverOptions.model_validate({**self.solver.model_dump(), **given})
        except ValidationError as err:  # e.g. solve(..., time_limit=float("nan")) from Python
            problems = [replace(p, path=f"solver.{p.path}") for p in pydantic_problems(err, "<options>",
                                                                                        model=SolverOptions)]
            raise ModelFileError(problems, "<options>") from None
        return self.model_copy(update={"solver": solver})


def parse_model_spec(data: Any, source: str = "<model>") -> ModelSpec:
    """A model file's data checked for its shape and types; the names it gives (objectives, rule families, HiGHS
    options) are checked by the layers that own them (:func:`allocopt.solver.specs.model_spec_from_dict`)."""
    if data is None:
        raise ModelFileError([Problem("", "the model file is empty", "give at least one field (see "
                                      "models/default.yaml), or leave out --model to use the defaults",
                                      source=source)], source)
    if not isinstance(data, dict):
        raise ModelFileError([Problem("", "expected a mapping of fields", "see models/default.yaml",
                                      source=source)], source)
    directions = [Problem(p.path, p.message, p.fix, source=source) for p in direction_problems(data)]
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as err:
        raise ModelFileError(pydantic_problems(err, source) + directions, source) from None
    if directions:
        raise ModelFileError(directions, source)
    return spec


def names_a_file(option: str) -> bool:
    """Whether a HiGHS option names a file to read or write (``log_file``, ``solution_file``, ``write_*``,
    ``read_*``, ...): such options are refused, whatever their value."""
    name = option.strip().lower()
    return "file" in name or name.startswith(("write_", "read_")) or name.endswith(("_path", "_dir"))


def parse_objective(text: str) -> dict[str, Any]:
    """``alpha_fair:alpha=2,tolerance=1e-5`` -> ``{"name": "alpha_fair", "alpha": 2.0, "tolerance": 1e-5}`` (the
    command line's form of an objective); checked when the model spec is validated."""
    name, _, params = text.partition(":")
    out: dict[str, Any] = {"name": name.strip()}
    for item in filter(None, (p.strip() for p in params.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"'{item}' is not key=value")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{key.strip()}={value!r} is not a number") from None
        whole = key.strip() == "max_rounds" and number.is_integer()  # 1.5, nan or inf: refused as not whole
        out[key.strip()] = int(number) if whole else number
    return out


register_models(*[m for m in list(globals().values())
                  if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == __name__])
