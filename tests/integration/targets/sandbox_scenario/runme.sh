#!/usr/bin/env bash
# The sandbox scenario, the way `ansible-test integration` runs a target: the toolkit's fake MYOB
# Acumatica and Ocerra started on loopback (free ports), the sandbox inventory provisioned twice
# (the second run changes nothing), a plan (no change pending) and a report.
set -eu
exec python "$(dirname "$0")/scenario.py"
