"""What the command line accepts: the model's sections, the run, the job's mode and the
settings of each analysis mode, as one typed schema Hydra composes against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from commonsabm.params.schema import ModelConfig, RunConfig, p


@dataclass
class SensitivityConfig:
    population: int = p(20_000, 500, 5_000_000, help="adult residents in each model run of the analysis",
                        unit="people", source="not a model parameter: smaller than run.population so that "
                        "hundreds of runs fit in minutes")
    end: str = p("2030-12", help="last simulated month of each run (YYYY-MM); outputs are means over "
                 "its final 12 months", source="docs/ODD.md §2")
    morris_trajectories: int = p(10, 2, 1000, help="Morris trajectories (each costs one run per "
                                 "uncertain parameter, plus one)", source="Campolongo et al. 2007: 10-20 usual")
    morris_levels: int = p(4, 2, 20, help="grid levels of the Morris design (an even number)",
                           source="Saltelli et al. 2008: 4 levels usual")
    sobol_top: int = p(3, 1, 20, help="how many of the most influential parameters (by Morris) go "
                       "on to the Sobol analysis")
    sobol_samples: int = p(64, 2, 1_000_000, help="Sobol base samples N (a power of 2); costs "
                           "N x (sobol_top + 2) runs")
    n_jobs: int = p(2, 1, 1024, help="model runs in parallel (joblib processes)")
    seed: int = p(42, 0, 2**32 - 1, help="seed of every model run (common random numbers) and of "
                  "the Morris and Sobol designs", source="not a model parameter: any seed is valid")
    noise_seeds: int = p(8, 0, 10_000, help="runs at the configured values with seeds seed, seed+1, ...: "
                         "the seed-to-seed spread that Morris effects are compared with (0 = skip)",
                         source="not a model parameter: a yardstick for the indices")


@dataclass
class CalibrationConfig:
    population: int = p(50_000, 500, 5_000_000, help="residents in each calibration run",
                        unit="people")
    seeds: int = p(10, 1, 1000, help="seeds each candidate is run over (the targets are means over them)")
    end: str = p("2020-12", help="last month of each calibration run (YYYY-MM)")
    first_seed: int = p(1, 0, 2**31, help="first of the consecutive seeds used")


# What a job can do: mode name -> "module:function" taking (app config, output dir,
# resolved YAML) and returning the number a Hydra sweeper optimises, if any.
MODES = {
    "run": "commonsabm.runs.outputs:run_mode",
    "sensitivity": "commonsabm.analysis.sensitivity:run_mode",
    "calibration": "commonsabm.analysis.calibration:run_mode",
}


@dataclass
class AppConfig(ModelConfig):
    """What the command line accepts: the model's sections, the run, and what the job does.

    ``mode`` picks the job: one simulation (``run``) or an analysis that runs the model
    many times. Each analysis keeps its own settings in a section of the same name.
    """
    run: RunConfig = field(default_factory=RunConfig)
    scenario: str = p("default", help="name of the scenario, used in output paths and reports")
    mode: str = p("run", help="what the job does", choices=tuple(MODES))
    verdict: bool = p(False, help="write the debate's verdict (verdict.md) into the sweep directory when a "
                      "multirun ends; the debate experiments set it")
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
