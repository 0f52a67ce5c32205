"""Stage runners: one module per `lrl-prep` verb (extract, masks, shards, refresh, status, report).

`STAGES` lists the stages that make outputs, in run order; `refresh`, `status` (and `report`, which
reads WORK and writes pages elsewhere) are not among them; `refresh` and `status` loop over it. Each
stage module has the same face:
    UNITS                     its unit names in the run state, in run order
    STAGE                     the unit of its outputs (the last of UNITS)
    NOTES                     {key of its records' counts: label} that `status` sums on STAGE's line
    NEEDS_STATE               whether WORK must hold a run state already (masks, shards: after extract)
    plan(ctx) -> Plan         its tasks (Plan.units: {unit name: [Task]})
    execute(ctx, plan)        runs them and returns a Summary
    nothing_to_do(ctx, plan)  why an empty plan is an error (one line)
    saved_config(state)       (PrepConfig, ROOT) its last run used, or None
and `lrl-prep <verb>` is pipeline.stages.context.run_stage(module, WORK, config, ROOT).
"""

from pipeline.stages import extract, masks, shards

STAGES = (extract, masks, shards)
