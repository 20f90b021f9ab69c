"""What an honest agent can read from the public figures: noise scale, total error, PGR resolution.

`python benchmarks/public_figures.py [--gap G ...] [--n-public N ...]` prints, per public-half size and
baseline gap (strong_acc - weak_acc), the noise amplitude, the measured s.d. of (shown - exact) accuracy
over many prediction vectors (keyed noise plus 2-decimal rounding), the public half's own sampling
error, and the PGR step and error that result. Pure arithmetic on the server's own functions; no timing.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from aar.server.public_figures import keyed_noise, noise_amplitude, shown
from aar.tasks.grade import Baselines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-public", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--gap", type=float, nargs="+", default=[0.1, 0.2, 0.3])
    ap.add_argument("--samples", type=int, default=4000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    secret = b"benchmark-secret"
    print(
        "n_public  a(noise)  sd(noise)  sd(shown-exact)  sampling_se(p=.75)  gap  PGR_step  sd(PGR err)  "
        "PGR_sampling_se"
    )
    for n in args.n_public:
        y = rng.integers(0, 2, n).astype(np.uint8)
        errs = []
        noises = []
        for _ in range(args.samples):
            p = np.where(rng.random(n) < rng.uniform(0.55, 0.95), y, 1 - y).astype(np.uint8)
            exact = float((p == y).mean())
            z = keyed_noise(secret, "bench", p)
            noises.append(z)
            errs.append(shown(exact, z, Baselines(0.6, 0.9)).accuracy - exact)
        se = math.sqrt(0.75 * 0.25 / n)
        for gap in args.gap:
            sd = float(np.std(errs))
            print(
                f"{n:8d}  {noise_amplitude(n):8.4f}  {np.std(noises):9.4f}  {sd:15.4f}  {se:18.4f}  "
                f"{gap:4.2f}  "
                f"{0.01 / gap:8.3f}  {sd / gap:11.3f}  {se / gap:15.3f}"
            )


if __name__ == "__main__":
    main()
