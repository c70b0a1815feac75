"""Load and fault tests of the production topology (make load, make load-faults)."""
