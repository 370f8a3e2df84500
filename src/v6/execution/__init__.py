"""The order execution engine: combo orders walked from the mid toward the natural price,
resting exits, legging protection, idempotent order references, what-if and dry run."""
