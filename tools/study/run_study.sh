#!/bin/bash
# Runs the R-Drop study's grid for one engine, stage by stage; every stage is resumable (rdrop_grid.py skips
# the runs already in bench-results/rdrop-study/results.jsonl), so the same command continues the study.
#   nice -n 15 tools/study/run_study.sh pytorch &
#   nice -n 15 tools/study/run_study.sh kiln &      # after `mvn -q -DskipTests package`
# Stages (CPU on one idle core per engine, measured: a plain 30-epoch run on 1,000 images ~50 s, R-Drop ~100 s):
#   A  1,000 training images: dropout after every block (p 0.5, 0.3) and before the classifier only (p 0.3,
#      0.5), alpha_mean 0 / 1 / 0.25, plain training for twice the epochs; seeds 1-3 (~70 min);
#   A' (PyTorch) the batch-mean reduction at alpha_mean 1 in one cell, against the summed KL at alpha_mean / 64:
#      what the last, partial batch of an epoch changes (~5 min);
#   B  5,000 training images: today's network and dropout after every block, both at p 0.3, alpha_mean 0 / 1,
#      plain for twice the epochs; seeds 1-3 (~2 h).
# Seeds 4 and 5 where a difference is under two standard deviations: rdrop_grid.py --seeds 4 5 --cells ...
set -u
engine=${1:?usage: run_study.sh kiln|pytorch}
cd "$(dirname "$0")/../.."
grid() { /usr/bin/python3 tools/study/rdrop_grid.py --engine "$engine" "$@"; }
grid --train-samples 1000 || exit
if [ "$engine" = pytorch ]; then
  grid --train-samples 1000 --cells blocks:0.5 --alpha-mean 1 --kl-reduction batchmean --no-equal-cost || exit
fi
grid --train-samples 5000 --cells head:0.3 blocks:0.3 --alpha-mean 0 1 || exit
