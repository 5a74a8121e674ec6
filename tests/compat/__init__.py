"""SDK compatibility matrix (run.sh) and the checks that run in every environment."""
