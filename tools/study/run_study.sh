#!/bin/bash
# Runs the R-Drop study's grid for one engine, stage by stage; every stage is resumable (rdrop_grid.py skips
# the runs already in bench-results/rdrop-study/results.jsonl), so the same command continues the study.
#   nice -n 15 tools/study/run_study.sh pytorch &
#   nice -n 15 tools/study/run_study.sh kiln &      # after `mvn -q -DskipTests package`
# Stages: A = 1,000 training images (2 placements x p 0.3/0.5 x alpha_mean 0/0.25/1 + plain for twice the
# epochs, seeds 1-3); A' (PyTorch) = the batch-mean reduction at alpha_mean 1 in one cell, to measure the
# effect of the last, partial batch on the sum/batch-mean equivalence; B = the same grid on 5,000 images.
set -u
engine=${1:?usage: run_study.sh kiln|pytorch}
cd "$(dirname "$0")/../.."
grid() { /usr/bin/python3 tools/study/rdrop_grid.py --engine "$engine" "$@"; }
grid --train-samples 1000 || exit
if [ "$engine" = pytorch ]; then
  grid --train-samples 1000 --cells blocks:0.5 --alpha-mean 1 --kl-reduction batchmean --no-equal-cost || exit
fi
grid --train-samples 5000 || exit
