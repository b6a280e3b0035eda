"""Configuration: the typed schema, its validation, presets and the flat keyword form."""

from __future__ import annotations

import dataclasses
import re
import math

import pytest
from conftest import CONF
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from commonsabm import CommonsModel
import commonsabm.cli  # noqa: F401 - registers the schema Hydra composes against
from commonsabm.params.checks import check, from_keywords, presets, to_keywords, walk
from commonsabm.params.schema import SECTIONS, ConfigError, ModelConfig, RunConfig


def field_of(section: str, name: str) -> dataclasses.Field:
    node = getattr(ModelConfig(), section) if section != "run" else RunConfig()
    return {f.name: f for f in dataclasses.fields(node)}[name]


def names_key(message: str, section: str, name: str) -> bool:
    """The message names the key, in its dotted (ubi.level) or flat (ubi_level) form."""
    return f"{section}.{name}" in message or f"{section}_{name}" in message


def split_key(key: str) -> tuple[str, str]:
    """'procurement_weight_price' -> ('procurement', 'weight_price'), longest section first."""
    section = next(s for s in sorted(SECTIONS + ("run",), key=len, reverse=True) if key.startswith(s + "_"))
    return section, key[len(section) + 1:]


def shows_number(message: str, x: float) -> bool:
    """The message shows the number x in any usual form (5e+06, 5,000,000, 5000000)."""
    forms = {f"{x:g}", f"{x:,}", f"{x:,g}", str(x)}
    if float(x).is_integer():
        forms |= {str(int(x)), f"{int(x):,}"}
    return any(form in message for form in forms)


def assert_one_line(message: str) -> None:
    assert message.strip() and "\n" not in message.strip()


# ---------------------------------------------------------------- rejected input
def test_unknown_parameter_is_rejected_with_the_allowed_names():
    with pytest.raises(ConfigError) as err:
        from_keywords(ubi_levle=3)
    message = str(err.value)
    assert_one_line(message)
    assert "ubi_levle" in message
    for f in dataclasses.fields(ModelConfig().ubi):  # lists what the section accepts
        assert f.name in message


def test_unknown_section_is_rejected():
    with pytest.raises(ConfigError) as err:
        from_keywords(wellbeing_level=3)
    assert "wellbeing_level" in str(err.value)
    assert "ubi" in str(err.value)  # names the sections that exist


@pytest.mark.parametrize("key, value", [
    ("ubi_level", "abc"),
    ("ubi_level", True),
    ("procurement_bundling", 2.5),
    ("procurement_consortia_allowed", 1),
    ("ubi_start", 202001),
    ("place_name", 3),
])
def test_wrong_type_is_rejected(key, value):
    with pytest.raises(ConfigError) as err:
        from_keywords(**{key: value})
    message = str(err.value)
    assert_one_line(message)
    section, name = split_key(key)
    assert names_key(message, section, name)
    assert "allowed" in message


@pytest.mark.parametrize("key, value", [
    ("ubi_level", -5.0),
    ("procurement_weight_price", 1.5),
    ("procurement_subcontract_share", 1.01),
    ("place_unemployed_share", -0.1),
    ("sanctions_monthly_rate", 2.0),
    ("conditionality_commitment_hours", 81.0),
    ("run_population", 10),
    ("austerity_grant_index", [1.0, -0.2, 0.5]),
    ("council_care_share_2010", 1.0),
    ("commons_staff_wage", 0.0),
    ("council_staff_wage", 50.0),
    ("primes_local_wage", 0.0),
    ("primes_underbid", 0.9),
])
def test_out_of_range_is_rejected_with_the_allowed_range(key, value):
    section, name = split_key(key)
    meta = field_of(section, name).metadata
    with pytest.raises(ConfigError) as err:
        from_keywords(**{key: value})
    message = str(err.value)
    assert_one_line(message)
    assert names_key(message, section, name)
    assert "allowed" in message
    assert shows_number(message, meta["lo"]) and shows_number(message, meta["hi"]), message


# every number in the schema, and one number inside each list of numbers
NUMBERS = [key for key, value, _ in walk(ModelConfig())
           if isinstance(value, (float, list)) and not isinstance(value, bool)]
NOT_FINITE = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
@pytest.mark.parametrize("key", NUMBERS)
def test_nan_and_infinity_are_rejected_for_every_number(key, value):
    """NaN compares false with every bound, so it passed the range checks; infinity means nothing anywhere."""
    section, _, name = key.partition(".")
    default = dict((k, v) for k, v, _ in walk(ModelConfig()))[key]
    given = [*default[:-1], value] if isinstance(default, list) else value
    with pytest.raises(ConfigError) as err:
        from_keywords(**{key.replace(".", "_"): given})
    message = str(err.value)
    assert_one_line(message)
    assert f"{key}={value!r} is not a finite number; allowed: " in message


@pytest.mark.parametrize("key", ["population", "seed", "replications"])
@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
def test_nan_and_infinity_are_rejected_for_whole_numbers(key, value):
    with pytest.raises(ConfigError) as err:
        from_keywords(**{f"run_{key}": value})
    assert_one_line(str(err.value))
    assert names_key(str(err.value), "run", key) and "allowed" in str(err.value)


def test_the_model_rejects_nan_whichever_way_it_is_given():
    with pytest.raises(ConfigError, match=r"sanctions\.monthly_rate=nan is not a finite number"):
        CommonsModel(population=2000, end="2010-06", sanctions_monthly_rate=float("nan"))
    config = ModelConfig()
    config.ubi.level = float("nan")
    with pytest.raises(ConfigError, match=r"ubi\.level=nan is not a finite number"):
        CommonsModel(population=2000, end="2010-06", config=config)
    with pytest.raises(ConfigError, match=r"place\.hourly_wage=nan"):
        check(ModelConfig(place=dataclasses.replace(ModelConfig().place, hourly_wage=math.nan)), RunConfig())


def test_boundaries_of_ranges_are_allowed():
    from_keywords(ubi_level=0.0, procurement_weight_price=1.0, procurement_weight_quality=0.0,
                  procurement_subcontract_share=1.0, sanctions_monthly_rate=0.0)


def test_choice_outside_the_list_is_rejected():
    with pytest.raises(ConfigError) as err:
        from_keywords(ubi_funding="lottery")
    message = str(err.value)
    assert names_key(message, "ubi", "funding")
    for choice in field_of("ubi", "funding").metadata["choices"]:
        assert choice in message


@pytest.mark.parametrize("key, value", [("ubi_start", "2020-13"), ("ubi_start", "2020/01"),
                                        ("run_end", "soon"), ("automation_start", "20-01")])
def test_malformed_months_are_rejected(key, value):
    with pytest.raises(ConfigError, match="YYYY-MM"):
        from_keywords(**{key: value})


def test_unknown_preset_is_rejected_with_the_presets_that_exist():
    with pytest.raises(ConfigError) as err:
        from_keywords(place="atlantis")
    assert "atlantis" in str(err.value)
    for name in presets("place"):
        assert name in str(err.value)


# ---------------------------------------------------------------- contradictions
@pytest.mark.parametrize("keywords, names", [
    ({"ubi_level": 100, "ubi_start": "2040-01", "run_end": "2030-12"}, ("ubi.start", "run.end")),
    ({"ubi": "full", "ubi_start": "2015-01", "run_end": "2012-12"}, ("ubi.start",)),
    ({"investment_fund": "present", "run_end": "2015-12"}, ("investment_fund.start",)),
    ({"procurement": "reformed", "procurement_start": "2020-01", "run_end": "2015-12"}, ("procurement.start",)),
    ({"place_full_time_share": 0.60}, ("share",)),
    ({"place": "deprived_northern", "place_retired_share": 0.10}, ("share",)),
    ({"procurement_weight_price": 0.9}, ("procurement.weight",)),
    ({"investment_fund_public_weight": 0.9}, ("investment_fund",)),
    ({"austerity_years": [2010, 2020], "austerity_grant_index": [1.0, 0.8, 0.5]}, ("austerity",)),
    ({"austerity_years": [2010, 2010, 2020], "austerity_grant_index": [1.0, 0.8, 0.5]}, ("austerity.years",)),
    ({"network_min_ties": 12, "network_max_ties": 6}, ("min_ties",)),
    ({"run_start": "2015-01", "run_end": "2014-12"}, ("run.end",)),
    ({"council_contracted_share": 0.995, "council_commissioning_share": 0.01}, ("council",)),
    ({"place_full_time_share": 0.0, "place_part_time_share": 0.0, "place_unemployed_share": 0.4,
      "place_inactive_share": 0.3, "place_retired_share": 0.3}, ("place.full_time_share", "place.part_time_share")),
    ({"place_central_grant": 0.0, "place_council_tax": 0.5}, ("place.central_grant", "place.council_tax")),
])
def test_contradictory_settings_are_rejected(keywords, names):
    with pytest.raises(ConfigError) as err:
        from_keywords(**keywords)
    message = str(err.value)
    assert_one_line(message)
    assert "allowed" in message
    for name in names:
        assert name in message


def test_ubi_starting_in_the_last_month_is_not_a_contradiction():
    model, run = from_keywords(ubi_level=100, ubi_start="2012-12", run_end="2012-12")
    assert model.ubi.start == run.end


def test_ubi_start_does_not_matter_without_a_ubi():
    model, _ = from_keywords(ubi_level=0, ubi_start="2040-01", run_end="2012-12")
    assert model.ubi.level == 0


def test_model_constructor_validates_too():
    with pytest.raises(ConfigError):
        CommonsModel(population=2000, end="2011-12", ubi_level=-1)
    with pytest.raises(ConfigError):
        CommonsModel(population=2000, start="2012-01", end="2011-12", config=ModelConfig())
    with pytest.raises(TypeError):
        CommonsModel(population=2000, end="2011-12", config=ModelConfig(), ubi_level=3)


# ---------------------------------------------------------------- presets and keywords
# not presets of one section: experiments, and the ensemble's worlds, each setting several
# sections (tests/test_ensemble_sweep.py)
PRESETS = [(section, name) for section in sorted(p.name for p in CONF.iterdir()
                                                 if p.is_dir() and p.name not in ("experiment", "world"))
           for name in presets(section)]


def test_every_config_group_is_a_model_section():
    assert {s for s, _ in PRESETS} <= set(SECTIONS)
    assert len(PRESETS) >= 20


@pytest.mark.parametrize("section, name", PRESETS)
def test_preset_loads_and_sets_what_its_file_says(section, name):
    model, _ = from_keywords(**{section: name})
    data = OmegaConf.to_container(OmegaConf.load(CONF / section / f"{name}.yaml"))
    data.pop("defaults", None)
    assert data, f"{section}/{name}.yaml sets nothing"
    for key, value in data.items():
        got = getattr(getattr(model, section), key)
        assert got == (list(map(float, value)) if isinstance(value, list) else value), key


def test_hydra_defaults_match_the_python_defaults(conf_dir):
    """The default run from Python is the default run of the command line, calibration included."""
    defaults = OmegaConf.load(conf_dir / "config.yaml")["defaults"]
    chosen = {k: v for d in defaults if isinstance(d, dict) or OmegaConf.is_dict(d) for k, v in d.items()}
    assert set(chosen) == {s for s, _ in PRESETS}  # a default preset for every config group
    python_default, _ = from_keywords()
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir)):
        composed = compose(config_name="config")
    hydra_default = ModelConfig.of(OmegaConf.to_object(composed))
    assert hydra_default == python_default
    for section, name in chosen.items():  # naming the default preset changes nothing
        model, _ = from_keywords(**{section: name})
        assert getattr(model, section) == getattr(python_default, section), f"{section}: {name}"


def test_single_parameters_override_presets_whatever_the_order():
    model, _ = from_keywords(ubi_level=123.0, ubi="full")
    assert model.ubi.level == 123.0 and model.ubi.unconditional is True


def test_nested_parameters_reach_organisation_types():
    model, _ = from_keywords(commons_coop_overheads=1234.0, commons_vcs_volunteer_room=7)
    assert model.commons.coop.overheads == 1234.0
    assert model.commons.vcs.volunteer_room == 7
    assert model.commons.community_business.overheads == ModelConfig().commons.community_business.overheads


def test_keyword_form_round_trips():
    model, _ = from_keywords(ubi="modest", place="deprived_northern", procurement="reformed",
                             austerity="reversed", commons_vcs_overheads=800.0)
    again, _ = from_keywords(**to_keywords(model))
    assert again == model


def test_configs_do_not_share_mutable_defaults():
    a, b = ModelConfig(), ModelConfig()
    a.austerity.grant_index.append(0.1)
    assert b.austerity.grant_index != a.austerity.grant_index
    assert ModelConfig().austerity.grant_index == b.austerity.grant_index


# ---------------------------------------------------------------- the schema documents itself
def flatten(tree: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in tree.items():
        if isinstance(value, dict):
            keys |= flatten(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_walk_covers_every_field():
    walked = [key for key, _, _ in walk(ModelConfig())]
    assert len(walked) == len(set(walked))
    assert set(walked) == flatten(dataclasses.asdict(ModelConfig()))
    assert set(key for key, _, _ in walk(RunConfig(), "run.")) == {f"run.{k}" for k in
                                                                   dataclasses.asdict(RunConfig())}


@pytest.mark.parametrize("key, value, f", list(walk(ModelConfig())) + list(walk(RunConfig(), "run.")),
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_field_is_documented_and_its_default_is_allowed(key, value, f):
    meta = f.metadata
    assert isinstance(meta.get("help"), str) and meta["help"].strip(), f"{key} has no help"
    assert isinstance(meta.get("source"), str) and meta["source"].strip(), f"{key} has no source"
    values = value if isinstance(value, list) else [value]
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if meta.get("lo") is not None:
                assert v >= meta["lo"], key
            if meta.get("hi") is not None:
                assert v <= meta["hi"], key
        if meta.get("choices"):
            assert v in meta["choices"], key


def test_the_default_configuration_passes_its_own_checks():
    check(ModelConfig(), RunConfig())


# ---------------------------------------------------------------- config= as a manifest records it
def test_a_dict_of_sections_is_checked_like_every_other_route():
    """config= takes the nested dict a manifest holds; a partial one changes only what it names."""
    model = CommonsModel(population=2000, end="2011-12", config={"ubi": {"level": 300.0, "start": "2011-01"},
                                                                 "commons": {"coop": {"overheads": 900.0}}})
    assert model.config == from_keywords(ubi_level=300.0, ubi_start="2011-01", commons_coop_overheads=900.0,
                                         run_population=2000, run_end="2011-12").model
    for config, names in (({"ubi": {"levle": 3}}, "'ubi.levle'"), ({"ubi": {"level": -5}}, "ubi.level=-5"),
                          ({"nope": {}}, "unknown section 'nope'"), ({"ubi": 300}, "ubi=300")):
        with pytest.raises(ConfigError, match=re.escape(names)):
            CommonsModel(population=2000, end="2011-12", config=config)
    with pytest.raises(TypeError, match="a dict of sections"):
        CommonsModel(population=2000, end="2011-12", config=[("ubi", {})])
