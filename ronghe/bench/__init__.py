"""Benchmarks: each stage of the pipeline next to a lower bound measured in the same run.

`ronghe bench` (ronghe/bench/command.py) drives them; the stage modules
(extract, identity, quality, orchestration, dbt) can also be run alone.
"""
