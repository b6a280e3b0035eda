"""Analysis over many runs: calibration, sensitivity, and the debate's verdict."""
