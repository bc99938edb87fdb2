"""Training components (losses, metrics, optimizers, schedules, hardware) and the loop glue."""
