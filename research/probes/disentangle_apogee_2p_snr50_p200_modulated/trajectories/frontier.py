"""Every trajectory run on the 200-profile APOGEE-like grid (S/N 50), at epoch 25: how much of Teff
and logg its z still holds against how many twins it finds. Prints a table and writes frontier.png.

    PYTHONPATH=. python bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/frontier.py

It reads the ``epoch 25:`` probe line of each ``*.log`` next to it (the runs that probed epoch 25 on
the S/N 50 grid; the noiseless run is left out, its PolyDis differs), and the z(mdAT) rows of the
25-epoch experiment reports on the same grid and split (``../*/report.md`` and the seed decoder's
``../../disentangle_apogee_2p_snr50_p200_e25/report.md``; their R² is a median over repetitions).
A run that was also probed after epoch 25 gets a grey path to those points and rows in a second
table; "best" marks the epoch of lowest validation objective, the weights the trainer keeps. The x axis is the larger of the Teff and logg R² (#4 asks for both ≤ 0.25), the y axis twin
recall@1 on the test split (#4 asks for ≥ 2 × PolyDis's 0.240). The target is the shaded corner.
Each run is marked by its row number in the first table, with the key beside the plot.
"""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
POLYDIS_RECALL = 0.240  # PolyDis on this split (README, #4)
R2_TARGET = 0.25
LEFT_OUT = {"residual_encoder_noiseless.log"}
COLOURS = {"seed encoder": "tab:blue", "residual encoder": "tab:orange", "species decoder, seed encoder": "tab:purple"}  # family → colour
LABELS = {  # log → what was run (mdAT λ 0.01 unless it says otherwise)
    "mu0.02": "modulated, μ 0.02", "mu0.03": "modulated, μ 0.03", "mu0.02_nu0.05": "modulated, μ 0.02, ν 0.05",
    "joint_nu0.05": "seed decoder, ν 0.05", "joint_nu0.5": "seed decoder, ν 0.5",
    "opacity_decoder_joint_encoder": "opacity decoder", "opacity_decoder_residual_encoder": "residual, opacity decoder",
    "opacity_residual_noAT": "residual, opacity, noAT", "opacity_residual_noise0.3": "residual, opacity, z noise 0.3",
    "opacity_residual_noise0.6": "residual, opacity, z noise 0.6", "opacity_residual_noise1.0": "residual, opacity, z noise 1.0",
    "residual_encoder_mu0": "residual", "residual_encoder_mu0.005": "residual, μ 0.005",
    "residual_encoder_mu0.02": "residual, μ 0.02", "residual_encoder_lambda0.03": "residual, λ 0.03",
    "residual_encoder_lambda0.1": "residual, λ 0.1", "residual_encoder_noAT": "residual, noAT",
    "residual_encoder_wide_discriminators": "residual, wide discriminators",
    "residual_encoder_noise0.3": "residual, z noise 0.3",
    "opacity_residual_noise0.3_e60": "residual, opacity, z noise 0.3 (rerun)",
    "opacity_residual_noise0.45_e60": "residual, opacity, z noise 0.45",
    "opacity_residual_noise0.6_e60": "residual, opacity, z noise 0.6 (rerun)",
    "opacity_residual_noise0.6_e60_seed1": "residual, opacity, z noise 0.6, seed 1",
    "opacity_residual_noise0.6_e60_seed2": "residual, opacity, z noise 0.6, seed 2",
    "opacity_residual_noise0.8_e80": "residual, opacity, z noise 0.8",
    "opacity_residual_noise0.6_mu0.005_e60": "residual, opacity, z noise 0.6, μ 0.005",
    "opacity_residual_noise0.6_mu0.01_e60": "residual, opacity, z noise 0.6, μ 0.01",
    "opacity_residual_noise0.6_mu0.01_e60_seed1": "residual, opacity, z noise 0.6, μ 0.01, seed 1",
    "opacity_residual_noise0.6_mu0.02_e60": "residual, opacity, z noise 0.6, μ 0.02",
    "species_mdAT": "species decoder", "species_mdAT_seed1": "species decoder, seed 1",
    "species_noAT": "species decoder, noAT", "species_noise0.6": "species decoder, z noise 0.6",
    "species_identity_mdAT": "species decoder, a(z) = z", "species_identity_mdAT_seed1": "species decoder, a(z) = z, seed 1",
    "species_identity_mu0.01": "species decoder, a(z) = z, μ 0.01",
    "species_identity_rho0.1": "species decoder, a(z) = z, ρ 0.1",
    "species_identity_mu0.01_seed1": "species decoder, a(z) = z, μ 0.01, seed 1",
    "species_identity_mu0.01_seed1_rerun": "species decoder, a(z) = z, μ 0.01, seed 1 (rerun)",
    "species_identity_mu0.01_seed2": "species decoder, a(z) = z, μ 0.01, seed 2",
}
REPORTS = {  # experiment report → what was run (all mdAT, seed encoder)
    "disentangle_apogee_2p_snr50_p200_e25": "seed decoder (experiment)",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT": "modulated (experiment)",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT_l0.05": "modulated, λ 0.05",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT_d10": "modulated, 10 d-steps",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT_mu0.02": "modulated, μ 0.02 (experiment)",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT_mu0.05": "modulated, μ 0.05",
    "disentangle_apogee_2p_snr50_p200_modulated/mdAT_mu0.2": "modulated, μ 0.2",
}
REPORT_R2 = re.compile(r"^\| z\(mdAT\) \| (?P<teff>-?[\d.]+) \| (?P<logg>-?[\d.]+) \|", re.M)
REPORT_TWINS = re.compile(r"^\| z\(mdAT\) \| (?P<recall>[\d.]+) \| [\d.]+ \| \d+ \|", re.M)
PROBE = re.compile(r"^epoch 25: teff (?P<teff>-?[\d.]+) logg (?P<logg>-?[\d.]+) .*\| R@1 (?P<recall>[\d.]+)", re.M)
# later probes: "epoch N:", "best epoch N:" and, for a run stopped by hand, its checkpoint re-probed
# with the kept weights ("(checkpoint re-probed …) probe of the kept epoch N (3 repetitions):")
LATER = re.compile(r"^(?:(?P<best>best )|\(checkpoint re-probed[^)]*\) probe of the (?P<kept>kept )?)?"
                   r"epoch (?P<epoch>\d+)(?: \(\d+ repetitions?\))?: teff (?P<teff>-?[\d.]+) logg (?P<logg>-?[\d.]+) "
                   r".*\| R@1 (?P<recall>[\d.]+)", re.M)


def runs() -> list[dict]:
    """One row per log: name, Teff and logg R², recall@1, and the family (encoder, or the species decoder) for the colour."""
    rows = []
    for log in sorted(HERE.glob("*.log")):
        found = PROBE.search(log.read_text())
        if log.name in LEFT_OUT or not found:
            continue
        name = LABELS.get(log.stem, log.stem)
        family = ("residual encoder" if name.startswith("residual")
                  else "species decoder, seed encoder" if name.startswith("species") else "seed encoder")
        later = {}  # epoch → point; the validation-best epoch (what the trainer keeps) is marked
        for m in LATER.finditer(log.read_text()):
            epoch, best = int(m["epoch"]), bool(m["best"] or m["kept"])
            if epoch > 25 and epoch in later:
                later[epoch]["best"] = later[epoch]["best"] or best
            elif epoch > 25:
                later[epoch] = {"best": best, **{k: float(m[k]) for k in ("epoch", "teff", "logg", "recall")}}
        later = [later[epoch] for epoch in sorted(later)]
        for point in [p for p in later if p["best"]][:-1]:  # a resumed run's earlier kept epoch was superseded
            point["best"] = False
        rows.append({"run": name, "family": family, "later": later, **{k: float(v) for k, v in found.groupdict().items()}})
    for folder, name in REPORTS.items():
        report = HERE.parents[1] / folder / "report.md"
        text = report.read_text() if report.exists() else ""
        r2, twins = REPORT_R2.search(text), REPORT_TWINS.search(text)
        if r2 and twins:  # two evaluations were OOM-killed before their twin table (README)
            rows.append({"run": name, "family": "seed encoder", **{k: float(v) for k, v in r2.groupdict().items()},
                         "recall": float(twins["recall"])})
    return rows


def main() -> None:
    rows = sorted(runs(), key=lambda r: -r["recall"])
    for number, row in enumerate(rows, 1):  # the figure marks each run by this number
        row["number"] = number
    print("| # | run | Teff R² | logg R² | recall@1 | × PolyDis |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['number']} | {row['run']} | {row['teff']:.3f} | {row['logg']:.3f} | {row['recall']:.3f}"
              f" | {row['recall'] / POLYDIS_RECALL:.2f} |")
    longer = [row for row in rows if row.get("later")]
    if longer:
        print("\nRuns trained past epoch 25 (the same run, probed later):\n")
        print("| run | epoch | Teff R² | logg R² | recall@1 | × PolyDis |")
        print("|---|---|---|---|---|---|")
        for row in longer:
            for point in [{"epoch": 25, **row}] + row["later"]:
                epoch = f"{point['epoch']:.0f}" + (" (best on validation)" if point.get("best") else "")
                print(f"| {row['run']} | {epoch} | {point['teff']:.3f} | {point['logg']:.3f} | {point['recall']:.3f}"
                      f" | {point['recall'] / POLYDIS_RECALL:.2f} |")
    figure, (axes, key) = plt.subplots(1, 2, figsize=(12, 6.5), gridspec_kw={"width_ratios": [2.4, 1]})
    axes.axvspan(-0.05, R2_TARGET, ymin=0, ymax=1, color="0.93")
    axes.fill_between([-0.05, R2_TARGET], 2 * POLYDIS_RECALL, 0.70, color="tab:green", alpha=0.15, label="#4 target")
    axes.axhline(POLYDIS_RECALL, color="0.5", ls=":", lw=1)
    axes.text(1.0, POLYDIS_RECALL + 0.005, "PolyDis", ha="right", va="bottom", color="0.4", fontsize=8)
    axes.axhline(2 * POLYDIS_RECALL, color="tab:green", ls="--", lw=1)
    for family, colour in COLOURS.items():
        chosen = [r for r in rows if r["family"] == family]
        axes.scatter([max(r["teff"], r["logg"]) for r in chosen], [r["recall"] for r in chosen], color=colour, label=family)
        for r in chosen:  # a number, not the name: the names hid each other in the crowded middle
            axes.annotate(str(r["number"]), (max(r["teff"], r["logg"]), r["recall"]), fontsize=6.5, color=colour,
                          xytext=(3, 2), textcoords="offset points")
    kept_label = "epoch the trainer keeps (best on validation)"
    for row in longer:  # where more epochs take a run: a grey path from its epoch-25 point
        path = [row] + row["later"]
        axes.plot([max(p["teff"], p["logg"]) for p in path], [p["recall"] for p in path], color="0.45", lw=0.8, zorder=1)
        for point in row["later"]:  # only the kept epoch is marked, with the run's number
            x = max(point["teff"], point["logg"])
            if point["best"]:
                axes.scatter(x, point["recall"], s=30, marker="D", facecolor="white", edgecolor="0.25", zorder=3,
                             label=kept_label)
                kept_label = None
                axes.annotate(str(row["number"]), (x, point["recall"]), fontsize=6.5, color="0.3",
                              xytext=(4, 3), textcoords="offset points")  # its epoch: the second table
            else:
                axes.scatter(x, point["recall"], s=10, color="0.45", zorder=2)
    axes.set_xlim(-0.05, 1.05)
    axes.set_ylim(0, 0.70)
    axes.set_xlabel("max(Teff, logg) R² of an MLP probe on z (lower = more disentangled)")
    axes.set_ylabel("twin recall@1 on z (test split)")
    axes.set_title("mdAT variants, APOGEE-like grid, 200 profiles, S/N 50, epoch 25 (grey: later probes)")
    axes.legend(loc="upper right", fontsize=8)  # the target corner is upper left
    key.axis("off")  # the numbers' key, in the order of the first table
    for line, row in enumerate(rows):
        key.text(0, 1 - line / len(rows), f"{row['number']:>2}  {row['run']}", fontsize=6.5, va="top",
                 color=COLOURS[row["family"]], transform=key.transAxes, family="monospace")
    figure.tight_layout()
    figure.savefig(HERE / "frontier.png", dpi=130)
    print("wrote frontier.png")


if __name__ == "__main__":
    main()
