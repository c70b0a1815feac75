"""Deployment helpers for production mode (see deploy/README.md and scripts/run_prod.sh)."""
