#!/usr/bin/env bash
# Install fairseq (for fairrep.features.VQWav2Vec) into the active environment.
#
# PyPI's fairseq 0.12.2 does not import on Python >= 3.11; fairseq-fixed 0.12.3.1
# (same `fairseq` import name) does. It is built without build isolation so that
# its build uses the torch already installed (an isolated build would fetch another
# torch), and without its declared dependencies so that pip neither replaces torch
# nor adds a torchaudio that does not match it (the vq-wav2vec path does not use
# torchaudio). The runtime dependencies it does use are installed explicitly.
# The build compiles C++ extensions: about 5 minutes on 2 cores, once (pip caches
# the wheel).
set -euo pipefail
python -c "import torch" 2>/dev/null || {
  echo "install torch first (e.g. pip install torch==2.13.0)" >&2
  exit 1
}
pip install cython setuptools wheel "hydra-core==1.3.2" "omegaconf==2.3.0" bitarray sacrebleu regex cffi
MAX_JOBS="${MAX_JOBS:-2}" pip install --no-deps --no-build-isolation fairseq-fixed==0.12.3.1
# fairseq imports scikit-learn and the rest of fairrep's stack, which the test
# command installs next; check only that the wheel is in place here.
pip show fairseq-fixed > /dev/null && echo "fairseq-fixed installed"
