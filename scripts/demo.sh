#!/usr/bin/env bash
# The main job on a fresh machine: install, build, run the demo suite into this
# repository's refs/agentv/runs/v1, and say how to look at the results.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error
echo "==> build" >&2
npm run --silent build

echo "==> agentv eval fixtures/demo/suite.yaml (13 support tickets through fixtures/demo/agent.mjs)" >&2
set +e
node dist/cli.js eval fixtures/demo/suite.yaml --workers 4
code=$?
set -e
# Exit 1 means the run completed with failing tests: the demo agent is
# imperfect on purpose. Anything else is a real problem.
if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then
  echo "demo run failed with exit code $code" >&2
  exit "$code"
fi

echo >&2
node dist/cli.js runs list --limit 5
cat >&2 <<'MSG'

The runs live on refs/agentv/runs/v1 of this repository (git log refs/agentv/runs/v1).
Look at them:
  node dist/cli.js runs show <RUN_ID>
  node dist/cli.js studio --open          # Studio on http://127.0.0.1:3117
Run the demo again and press Ctrl+C while "long-essay" thinks; then resume:
  node dist/cli.js eval fixtures/demo/suite.yaml --resume
MSG
