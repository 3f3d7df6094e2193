"""GraphQL benchmark: data set generator, workloads, hand-written baselines."""
