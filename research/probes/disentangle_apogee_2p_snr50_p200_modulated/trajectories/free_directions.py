"""How strongly each direction of z moves the species decoder's spectrum, read from checkpoints.

    PYTHONPATH=. python bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/free_directions.py CHECKPOINT...

The "species" decoder (``ml.disentangle.SpeciesDecoder``) reads z only through the abundances
a = A z + c (or a = z with ``species_map: identity``), and component k adds sₖ ⊙ σ(aₖ + bₖ(cp)) to
the spectrum. Its gain along a direction of z is bounded by how far a moves and how deep the
component's lines are: the singular values of diag(‖sₖ‖) A, with ‖sₖ‖ the RMS depth of component
k over the pixels (standardised flux per unit of a). A gain near 0 is a direction of z that
reconstruction ignores, where only the discriminators act. Gains are per unit of z. No data are
read, so the bound ignores how saturated each component is (σ') and how far z itself spreads
along each direction; it is a quick look at the weights, not a Jacobian over the stars.
Prints, per checkpoint: the epoch, A's singular values (1s for the identity map), the RMS depth of
each component, and the gains, smallest first.
"""
import sys

import torch


def gains(state: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(A's singular values (L,), RMS depth per component (K,), gains (min(K, L),)), each sorted ascending."""
    depth = state["decoder.depth"]  # (K, P)
    weight = state.get("decoder.abundance.weight", torch.eye(len(depth)))  # (K, L); identity when a = z
    depth_rms = depth.pow(2).mean(1).sqrt()
    return (torch.linalg.svdvals(weight).flip(0), depth_rms.sort().values,
            torch.linalg.svdvals(depth_rms[:, None] * weight).flip(0))


def rounded(values: torch.Tensor) -> str:
    return " ".join(f"{float(v):.3f}" for v in values)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        if "decoder.depth" not in saved["model"]:
            sys.exit(f"{path}: not a species-decoder checkpoint (no decoder.depth)")
        singular, depth_rms, gain = gains(saved["model"])
        print(f"{path} (epoch {saved['epoch']})\n  A singular values: {rounded(singular)}\n"
              f"  RMS depth per component: {rounded(depth_rms)}\n  gains: {rounded(gain)}")
