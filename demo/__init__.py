"""Demo apps that `osmo dev` (`make run`) starts next to Osmo.

They ship with the package, not under tests/, so the launcher works from an installed copy
or the Docker image (which leaves tests/ out). The tests drive the same apps as fakes.
"""
