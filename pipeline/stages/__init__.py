"""Stage runners: one module per `lrl-prep` verb (extract, masks, shards, refresh, status, report).

`STAGES` lists the stages that make outputs, in run order; `refresh`, `status` (and `report`, which
reads WORK and writes pages elsewhere) are not among them; `refresh` and `status` loop over it. Each
stage module has the same face:
    UNITS                     its unit names in the run state, in run order
    plan(ctx) -> Plan         its tasks (Plan.units: {unit name: [Task]})
    execute(ctx, plan)        runs them and returns a Summary
    saved_config(state)       (PrepConfig, ROOT) its last run used, or None
    run(...)                  the `lrl-prep <verb>` command
"""

from pipeline.stages import extract, masks, shards

STAGES = (extract, masks, shards)
