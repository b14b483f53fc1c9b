"""GANDALF-style disentangler: a conditional autoencoder trained against discriminators.

E(x ⊕ cp) → z (25-d), D(z ⊕ cp) → x̂, and discriminators that try to read the conditional
parameters cp (Teff, logg, optionally [Fe/H], [α/Fe]) back from z. The autoencoder learns to
reconstruct x while making z useless to them, so z keeps what the spectrum says *beyond* cp: its
chemistry. Nearest neighbours in z are chemical twins.

Variants (same architecture, for fair comparison):
* **mdAT**: one discriminator per conditional parameter, over ``n_bins`` bins of it.
* **AT**: one discriminator over the joint bin (the combinations seen in training; see
  ``ml.data.JointBins``).
* **noAT**: λ = 0; the discriminators still train (to measure what z leaks), but never push back.

Losses. Reconstruction is the MSE on standardised flux. Discriminator i minimises cross-entropy
CEᵢ on its binned parameter. The autoencoder minimises

    L_AE = L_rec − Σᵢ λᵢ · min(CEᵢ, 3 ln Kᵢ)        (Kᵢ = number of classes of discriminator i)

**Alternation.** Per mini-batch: encode once; ``disc_steps`` = 5 discriminator updates on the
detached z; then one autoencoder update against the freshly updated discriminators (no second
encoder pass). Five steps keep the discriminators near their optimum for the current encoder.

**Keeping the adversarial term bounded and stable.** The reference maximises the raw CE, which is
unbounded: nothing stops L_AE → −∞ by making a discriminator infinitely confidently wrong. We
bound each CE at 3 ln K (three times its chance value), so the term lies in [−3 Σλᵢ ln Kᵢ, 0]. The
bound sits *above* chance on purpose. Pushing the discriminators past chance is what erases the
parameter: when the cap sat exactly at chance ("capped"), the encoder stopped as soon as the
discriminators' accuracy was at chance, and a fresh probe still read Teff from z with R² = 0.95.
Each discriminator also standardises z with batch statistics (a non-affine BatchNorm). Without
that, the encoder defeated them by inflating z about 200× (per-dimension σ 75–370 against 1–5 for
noAT), and a probe read Teff at R² 0.997.

**λ = 0.01.** The chemistry that is left once the decoder knows Teff and logg is worth little
reconstruction: on the 60-profile APOGEE-like grid at S/N 50, a cubic polynomial of every pixel in
Teff and logg leaves a standardised MSE of 0.132; adding [Fe/H] (times a polynomial in Teff and
logg) removes 0.084 of it, and then [α/Fe], [Mg/Fe], [Ni/Fe] and [C/Fe] together only 0.009,
below the noise floor (0.019). An adversarial term of λ · (a fraction of a nat) outweighs that.
With λ = 1 the term (≈ 4.6) swamped reconstruction altogether; with λ = 0.05 (the previous
default) Teff and logg left z within 20–40 epochs and took every abundance but [Fe/H] with them.
With λ = 0.01 they leave more slowly, but the chemistry stays, and the twins improve as Teff and
logg go (last table).

Evidence: a 40-profile APOGEE-like grid at S/N 50 (8,400 spectra), 15–20 epochs, R² of MLP probes
on the test split :

| setting                                   | val MSE | Teff  | logg  | [Fe/H] | [Mg/Fe] | twin R@1 |
|-------------------------------------------|---------|-------|-------|--------|---------|----------|
| noAT                                      | 0.023   | 0.998 | 0.985 | 0.984  | 0.916   | 0.269    |
| capped, λ 1, plain discriminators         | 0.043   | 0.997 | 0.985 | 0.922  | 0.242   | 0.039    |
| capped, λ 1, standardising discriminators | 0.156   | 0.997 | 0.973 | 0.894  | 0.027   | 0.035    |
| capped, λ 0.02, 5 disc. steps             | 0.030   | 0.926 | 0.881 | 0.878  | 0.241   | 0.169    |
| capped, λ 0.05, 5 steps, unit-scale z     | 0.026   | 0.952 | 0.821 | 0.880  | 0.241   | 0.155    |
| confusion (CE to uniform), λ 0.05, 5 steps| 0.034   | 0.759 | 0.412 | 0.754  | 0.065   | 0.105    |
| raw CE (reference), λ 0.05, 5 steps       | 0.028   | 0.069 | 0.097 | 0.736  | 0.073   | 0.117    |
| bounded ≤ 3 ln K (default), λ 0.05, 5 steps| 0.028  | 0.069 | 0.097 | 0.736  | 0.073   | 0.117    |

(bounded equals raw here because the bound was never reached; it only guards against runaway.)

Longer runs (same grid, last epoch, one torch thread, one probe repetition):

| setting                          | epoch | val MSE | Teff  | logg  | [Fe/H] | [Mg/Fe] | twin R@1 |
|----------------------------------|-------|---------|-------|-------|--------|---------|----------|
| bounded, λ 0.05, 5 steps         | 10    | 0.044   | 0.988 | 0.936 | 0.894  | 0.095   | 0.105    |
|                                  | 20    | 0.030   | 0.218 | 0.205 | 0.748  | 0.064   | 0.086    |
|                                  | 40    | 0.024   | 0.213 | 0.135 | 0.817  | 0.146   | 0.181    |
|                                  | 60    | 0.025   | 0.088 | 0.088 | 0.811  | 0.059   | 0.114    |
| bounded, λ 0.02, 5 steps         | 20    | 0.028   | 0.307 | 0.155 | 0.791  | 0.121   | 0.174    |
|                                  | 40    | 0.024   | 0.072 | 0.043 | 0.767  | 0.200   | 0.165    |
| λ 0 for 5 epochs, ramp over 5    | 20    | 0.029   | 0.130 | 0.064 | 0.702  | 0.002   | 0.124    |
|                                  | 40    | 0.025   | 0.116 | 0.018 | 0.766  | 0.017   | 0.126    |

So Teff and logg leave z within 20–40 epochs at either λ, and the reconstruction recovers to near
noAT's, but [Mg/Fe] does not come back; a warm-up without the adversary does not protect it. The
chemistry is in the spectra at every temperature: linear probes of X *within* a Teff tercile read
[Fe/H] at R² 0.985–0.988 and [Mg/Fe] at 0.936–0.955 (cool to hot). What is lost is lost in the
adversarial optimisation, not in the data. Note also that the 20-epoch row differs from the table
above (Teff 0.218 against 0.069); the only difference we know of is the number of torch threads
(1 against 2). A run is deterministic for a seed and a thread count on one machine, and the
adversarial game amplifies float-rounding differences, so single runs of it are noisy. Nor is
a run repeated bit for bit on another machine: seed 1 of the a(z) = z, μ 0.01 run below,
restarted from scratch with the same code and arguments on another machine, differed from its
first epoch (validation MSE 0.0806 against 0.0838) and read Teff at 0.392 at epoch 40 where the
first run had 0.483.

Same grid, one torch thread, one probe repetition, current weights at each epoch (the λ 0.01 rows
come from two runs that share their first 10 epochs):

| setting                                    | epoch | val MSE | Teff  | logg  | [Fe/H] | [α/Fe] | [Mg/Fe] | [C/Fe] | twin R@1 |
|--------------------------------------------|-------|---------|-------|-------|--------|--------|---------|--------|----------|
| λ 0.05, batch 256                          | 10    | 0.044   | 0.996 | 0.982 | 0.919  | 0.283  | 0.081   | −0.001 | 0.050    |
|                                            | 30    | 0.037   | 0.993 | 0.965 | 0.897  | 0.040  | 0.184   | 0.021  | 0.093    |
| λ 0.05, N(0, 1) on the discriminators' z   | 10    | 0.056   | 0.989 | 0.927 | 0.962  | 0.627  | 0.662   | 0.129  | 0.171    |
|                                            | 20    | 0.027   | 0.264 | 0.009 | 0.821  | 0.074  | 0.068   | 0.005  | 0.126    |
|                                            | 30    | 0.026   | 0.056 | 0.010 | 0.848  | 0.105  | 0.108   | 0.006  | 0.143    |
| **λ 0.01** (default)                       | 10    | 0.027   | 0.994 | 0.980 | 0.950  | 0.615  | 0.683   | 0.178  | 0.174    |
|                                            | 20    | 0.025   | 0.954 | 0.855 | 0.952  | 0.636  | 0.682   | 0.185  | 0.286    |
|                                            | 30    | 0.025   | 0.611 | 0.589 | 0.860  | 0.674  | 0.703   | 0.152  | 0.302    |
|                                            | 40    | 0.023   | 0.477 | 0.271 | 0.870  | 0.682  | 0.742   | 0.310  | 0.379    |
|                                            | 60    | 0.023   | 0.225 | 0.159 | 0.930  | 0.826  | 0.861   | 0.484  | 0.488    |

At λ 0.05, neither larger batches nor a noisier view for the discriminators (which hides small
differences in how precisely the chemistry is measured at each temperature) keeps the chemistry.
At λ 0.01 Teff and logg need about 60 epochs to reach the seed's level (R² 0.22 and 0.14), and
every abundance is kept. The full experiment at λ 0.01 (60 profiles, 80 epochs;
``bench/results/disentangle_apogee_2p_snr50_p60_e80``) gives z(mdAT) Teff 0.090, logg 0.058, [α/Fe] 0.867 (X 0.592), [Mg/Fe] 0.875 (X 0.646), twin
recall@1 0.609 (X 0.124, PolyDis 0.379); at λ 0.05 and 25 epochs it had been [Mg/Fe] 0.040 and
recall@1 0.114. With four discriminators (RVS-like grid, 40 profiles, 60 epochs) λ 0.05 collapsed
z to a constant. λ 0.01 is at the edge: on one draw of the grid mdAT kept a latent and removed all
four parameters better than AT, on another (the same spec after the grid's PYTHONHASHSEED fix) it
collapsed. λ 0.005 holds all four out (R² ≤ 0.03) without collapsing, but keeps none of the
chemistry beyond them ([Mg/Fe] 0.028; twin recall@1 0.042 against PolyDis 0.228). So for four
parameters no λ that keeps the chemistry has been found yet.

**Opt-in, not the seed's model: ``decoder="modulated"`` and ``independence``.** With the seed's
decoder D(z ⊕ cp) the adversary hides Teff and logg by a parameter-dependent reshuffle of z that
the decoder undoes, and twins land apart (README, "Where the twins are lost"). The modulated
decoder x̂ = g(cp) + s(cp) ⊙ f(z) (``ModulatedDecoder``) cannot undo a reshuffle. The
``independence`` weight μ adds μ · CKA(z, cp), a kernel dependence measure refitted on every batch
(``kernel_dependence``). 200-profile APOGEE-like grid, S/N 50, 25 epochs, one torch thread, test
split (``bench/results/disentangle_apogee_2p_snr50_p200_modulated/``):

| decoder, setting                   | val MSE | Teff  | logg  | [Fe/H] | [α/Fe] | [Mg/Fe] | twin R@1 | generation RMS |
|------------------------------------|---------|-------|-------|--------|--------|---------|----------|----------------|
| joint (seed), mdAT λ 0.01          |         | 0.097 | 0.129 | 0.864  | 0.643  | 0.661   | 0.220    | 0.0448         |
| modulated, noAT                    | 0.0204  | 0.996 | 0.966 | 0.986  | 0.829  | 0.876   | (0.404)  | 0.0690         |
| modulated, mdAT λ 0.01             | 0.0208  | 0.933 | 0.585 | 0.959  | 0.767  | 0.787   | 0.349    | 0.0336         |
| modulated, mdAT λ 0.05             | 0.0341  | 0.980 | 0.859 | 0.935  | 0.154  | 0.122   | 0.111    | 0.0214         |
| modulated, mdAT λ 0.01, 10 d-steps | 0.0206  | 0.901 | 0.502 | 0.914  | 0.752  | 0.737   | 0.319    | 0.0461         |
| modulated, mdAT λ 0.01, d-lr 5e-3  | 0.0205  | 0.971 | 0.837 | 0.963  | 0.739  | 0.762   |          | 0.0593         |
| modulated, mdAT λ 0.01, μ 0.02     | 0.0219  | 0.347 | 0.238 | 0.953  | 0.760  | 0.773   | 0.341    | 0.0277         |
| modulated, mdAT λ 0.01, μ 0.05     | 0.0253  | 0.054 | 0.025 | 0.875  | 0.617  | 0.625   | 0.087    | 0.0322         |
| modulated, mdAT λ 0.01, μ 0.2      | 0.0301  | 0.003 | −0.006| 0.908  | 0.160  | 0.128   | 0.017    | 0.0202         |

(X: Teff 0.924, [Fe/H] 0.880, [α/Fe] 0.457, [Mg/Fe] 0.632; PolyDis: twin R@1 0.240, generation
0.0501. The joint row is the README's two-thread run; its generation error comes from a one-thread
rerun. Parenthesised and blank R@1: the run's evaluation was
OOM-killed, the bug fixed since in ``twin_metrics``; 0.404 is noAT's recall on the half-B subset of
``bench/twin_ceiling.py``, where PolyDis gets 0.341 and modulated mdAT λ 0.01 gets 0.463.)

So the modulated decoder keeps the twins: on half B a twin metric learned from other profiles
lifts z(mdAT) to 0.673 (0.236 with the seed's decoder), and a star drawn at its twin's parameters
lands 0.034 from it (0.045). But the discriminators no longer take Teff out. They sit at chance
(validation CE 2.24 nats, their bins' entropy) while a fresh probe reads Teff from the same z at
R² 0.90–0.98. Once z can only act through f(z), Teff in z is worth reconstruction, and the encoder
keeps it where the discriminators it trains against cannot see it. More or faster discriminator
steps do not change that, and a larger λ makes it worse. The kernel penalty does take Teff and
logg out (μ 0.05: 0.054 and 0.025, with [Fe/H], [α/Fe] and [Mg/Fe] within 0.1 of X), but then the
twins scatter again (R@1 0.087) and [C/Fe] goes (0.089 against X's 0.521). μ 0.02 is the best
balance found: Teff 0.347, logg 0.238, every abundance kept, twin R@1 0.341 (1.4× PolyDis). No
setting tried gives both a parameter-free z and twins, so neither option is a default.

**Opt-in ``noise_invariance`` (ν).** Each batch is encoded a second time with fresh noise at each
spectrum's own DER_SNR level (``DisentanglerTrainer.noise_level``), and ν · ``reobservation_ratio``
is added: per latent dimension, how far the second look moves a star relative to the dimension's
spread. It applies to every variant (it pushes z towards what survives a second look at the star,
not away from cp). On a low-S/N toy grid it cuts the ratio two- to fourfold over four seeds
(``tests/test_reobservation.py``). On the 200-profile grid it does not bring twins closer (25
epochs, one thread; ``bench/results/disentangle_apogee_2p_snr50_p200_modulated/trajectories/``):

| decoder, setting                 | Teff  | logg  | [Fe/H] | [Mg/Fe] | [C/Fe] | twin R@1 |
|----------------------------------|-------|-------|--------|---------|--------|----------|
| modulated, μ 0.02 (rerun)        | 0.195 | 0.031 | 0.943  | 0.747   | 0.665  | 0.331    |
| modulated, μ 0.02, ν 0.05        | 0.172 | 0.026 | 0.925  | 0.706   | 0.608  | 0.265    |
| joint (seed), no ν               | 0.097 | 0.129 | 0.864  | 0.661   | 0.637  | 0.220 (0.145 on a rerun) |
| joint (seed), ν 0.05             | 0.114 | 0.079 | 0.903  | 0.665   | 0.672  | 0.235    |
| joint (seed), ν 0.5              | 0.136 | 0.049 | 0.889  | 0.670   | 0.655  | 0.230    |

Noise is not what scatters twins on this grid (PolyDis finds as many on noiseless spectra); the
encoder maps the same chemistry to different z at different Teff and logg, which no invariance
to noise addresses. Off by default.

**Opt-in ``encoder="residual"``** (needs the modulated or the opacity decoder). The mirror of the decoder:
z = h((x − g(cp)) / s(cp)), with the decoder's own mean g and gain s, detached
(``ModulatedDecoder.pattern_estimate``). The encoder never reads cp, so it cannot build a
cp-dependent reshuffle from it, and a spectrum that is exactly g + s ⊙ pattern gets the same z at
every cp (``tests/test_residual_encoder.py``). Same grid and probes, 25 epochs, one thread:

| residual encoder, modulated decoder | Teff  | logg  | [Fe/H] | [Mg/Fe] | [C/Fe] | twin R@1 |
|-------------------------------------|-------|-------|--------|---------|--------|----------|
| mdAT λ 0.01                         | 0.799 | 0.441 | 0.959  | 0.854   | 0.787  | 0.519    |
| mdAT λ 0.01, μ 0.02                 | 0.520 | 0.123 | 0.926  | 0.707   | 0.633  | 0.256    |
| mdAT λ 0.03                         | 0.873 | 0.377 | 0.941  | 0.850   | 0.765  | 0.454    |
| mdAT λ 0.1                          | 0.807 | 0.433 | 0.888  | 0.687   | 0.644  | 0.149    |
| mdAT λ 0.01, μ 0.005                | 0.729 | 0.337 | 0.952  | 0.831   | 0.772  | 0.482    |
| mdAT λ 0.01, discriminators 256–128 | 0.869 | 0.457 | 0.948  | 0.851   | 0.833  | 0.517    |
| noAT                                | 0.959 | 0.624 | 0.922  | 0.874   | 0.854  | 0.429    |
| mdAT λ 0.01, noiseless grid         | 0.831 | 0.607 | 0.977  | 0.848   | 0.816  | 0.658    |

It finds the most twins of any single model (2.2× PolyDis) and keeps the most chemistry, but
Teff stays readable from z (R² 0.7–0.9), and neither a larger λ, wider discriminators nor the
kernel penalty takes it out without scattering the twins again. The leak is not the noise that
dividing by s(cp) rescales (the noiseless run keeps Teff as well): the encoder reads how a star's
lines answer Teff and logg beyond the one gain per pixel the decoder allows. Off by default.

**Opt-in ``decoder="opacity"``.** x̂ = g(cp) + s(cp) ⊙ tanh(f(z) + b(cp)) (``OpacityDecoder``):
the pattern and a per-pixel shift in cp add inside one saturating curve, as abundance and Teff add
in a line's log opacity on the grids, so the decoder can follow how a saturated line answers its
abundance at each Teff and logg. The residual encoder inverts it (atanh of the clipped ratio,
minus b). Same grid and probes, 25 epochs, one thread:

| opacity decoder                           | Teff  | logg  | [Fe/H] | [Mg/Fe] | [C/Fe] | twin R@1 |
|-------------------------------------------|-------|-------|--------|---------|--------|----------|
| seed encoder, mdAT λ 0.01                 | 0.664 | 0.336 | 0.926  | 0.738   | 0.750  | 0.305    |
| residual encoder, mdAT λ 0.01             | 0.701 | 0.208 | 0.952  | 0.829   | 0.805  | 0.474    |
| residual encoder, noAT                    | 0.940 | 0.646 | 0.938  | 0.854   | 0.870  | 0.483    |
| residual encoder, mdAT λ 0.01, z noise 0.3| 0.575 | 0.197 | 0.967  | 0.813   | 0.788  | 0.390    |
| residual encoder, mdAT λ 0.01, z noise 0.6| 0.300 | 0.156 | 0.948  | 0.726   | 0.725  | 0.262    |
| residual encoder, mdAT λ 0.01, z noise 1.0| 0.628 | 0.078 | 0.958  | 0.655   | 0.344  | 0.150    |
| (modulated decoder, residual, z noise 0.3)| 0.830 | 0.347 | 0.949  | 0.799   | 0.762  | 0.378    |

(z noise: ``standardise_latent`` with ``latent_noise`` σ, noise added to z before decoding in
training.) It takes out part of what the modulated decoder left (seed encoder: Teff 0.933 →
0.664), but without an adversary Teff stays in z (0.940): it does not remove the reason to keep
Teff, it makes Teff cheaper to push out. Every run with it lies on one trade-off between Teff
in z and twins found (README, ``trajectories/frontier.png``). Trained to 60 epochs, z noise 0.6
reaches recall@1 0.522 (2.18× PolyDis) with logg 0.231, but Teff is still at 0.507; over three
seeds the kept epoch has Teff 0.507–0.550 and recall@1 0.450–0.522. z noise 0.8 (80 epochs)
finds fewer twins and leaves Teff at 0.58–0.61. z noise 0.6 with the kernel penalty μ 0.01
(60 epochs) has the least Teff of any run at 2× PolyDis: Teff 0.407, logg 0.245, recall@1
0.479 (0.001 short of 2×), but a second seed keeps Teff at 0.498. Off by default.

**Opt-in ``decoder="species"``.** x̂ = g(cp) + Σₖ sₖ ⊙ σ(aₖ(z) + bₖ(cp)) (``SpeciesDecoder``): a
sum of K = 25 saturating components, each with one abundance aₖ(z) per star (linear in z, shared
by every pixel), a per-pixel depth and a per-pixel shift in cp. It fits pixels where species that
answer Teff and logg differently blend, which one saturating curve per pixel cannot, and a star's
spectrum depends on z only through the 25 numbers a(z). With the seed's encoder, mdAT λ 0.01, same
grid and probes (one thread; the README has the full trajectories):

| species decoder    | epoch      | Teff  | logg  | [Fe/H] | [Mg/Fe] | [C/Fe] | twin R@1 |
|--------------------|------------|-------|-------|--------|---------|--------|----------|
| noAT               | 25         | 0.985 | 0.862 | 0.984  | 0.897   | 0.892  | 0.482    |
| mdAT, seed 0       | 25         | 0.221 | 0.198 | 0.953  | 0.773   | 0.738  | 0.375    |
|                    | 40         | 0.151 | 0.042 | 0.936  | 0.780   | 0.708  | 0.350    |
|                    | 56 (best)  | 0.354 | 0.106 | 0.940  | 0.819   | 0.797  | 0.495    |
|                    | 80         | 0.252 | 0.122 | 0.930  | 0.816   | 0.783  | 0.494    |
| mdAT, seed 1       | 40         | 0.350 | 0.154 | 0.956  | 0.816   | 0.806  | 0.480    |
|                    | 59 (best)  | 0.340 | 0.270 | 0.944  | 0.803   | 0.802  | 0.495    |

Under both R² limits it finds more twins than any other run (0.375 against 0.331), and it reaches
2× PolyDis (0.495 at the kept epoch of both seeds) with less Teff than any other (0.34–0.35,
against 0.41–0.50). But Teff swings between epochs while the twins climb (seed 1: 0.340 at epoch
59, 0.902 at 60), so no epoch has both; the nearest, seed 0 at epoch 80, is 0.002 of Teff R²
outside (one probe repetition). The map a = A z leaves nearly free directions (eight of its 25
singular values below 0.06 by epoch 60), but they are not where Teff is: with
``species_map="identity"`` (a(z) = z, no A) the runs trace the same frontier (Teff 0.167–0.206
and logg 0.073–0.125 at epochs 40–60 with recall@1 0.34). What the probes read is z's *mean*
moving with Teff, about 0.2σ per latent over the Teff range (0.05σ for an unrelated z), a shift
that bₖ(cp) undoes exactly and that the discriminators, at chance, do not see. Off by default.

**Opt-in ``mean_independence`` ρ.** Adds ρ · ``mean_dependence(z, cp)``, the share of each
latent's batch variance that a quadratic in cp explains, refitted on every batch: it aims at that
shift. With a(z) = z and ρ 0.1 it took Teff and logg out (R² 0.039 and 0.003 at epoch 25) and the
twins with them (recall@1 0.260): the encoder changed z's spread with Teff instead, which the
penalty does not see. Off by default.

**Both #4 targets, on two seeds of three: ``species_map="identity"`` with ``independence`` μ 0.01.**
The kernel penalty sees z's whole distribution, and with a(z) = z there is no direction that
reconstruction ignores for it to chase. mdAT λ 0.01, same grid and probes, at the kept epoch
(median of 3 probes): seed 0 (epoch 60) Teff R² 0.187, logg 0.045, twin recall@1 0.614 = 2.56×
PolyDis; seed 2 (epoch 48) Teff 0.121, logg 0.034, recall@1 0.612 = 2.55×; every abundance above
X's on both ([Mg/Fe] 0.869–0.878, [C/Fe] 0.852–0.875); seed 2 stopped early at epoch 68, as the
config would. Seed 1 finds more twins (0.670 = 2.79× at epoch 80, still its best on validation)
but keeps Teff 0.300 (logg 0.065): Teff leaves at a pace that differs by seed, and the kept epoch
is chosen on reconstruction, which does not see it.
Config ``ml/experiments/configs/apogee_2p_snr50_species_identity_mu0.01.yaml``; off by default.

**Model selection** (best epoch, early stopping) uses the validation objective
``MSE + Σᵢ λᵢ · max(0, Hᵢ − CEᵢ)`` (Hᵢ the entropy of discriminator i's training bins, the CE
of a discriminator that reads nothing): the reconstruction plus what the discriminators still
read from z, counted only below chance. It used to be the training loss itself, which rewards
discriminators that are *confidently wrong* (CE above chance): on the RVS-like grid that picked
an mdAT epoch 14 whose latent still gave Teff at R² 0.985, and an AT epoch whose z had collapsed
to a constant.

Data handling: scalers fitted on the training split only; a real train/validation/test split;
reshuffled every epoch from a seeded generator; float32 (bf16 autocast on CUDA); deterministic
for a seed on one machine and thread count (not bit for bit across machines). The shuffles, the
z noise and the re-observation noise each draw on the trainer's own generator, never on torch's
global RNG, and every epoch starts in training mode, so a probe or another task between epochs
cannot change a run. Checkpoints (weights, optimisers, RNG state, history) every epoch so a run
resumes exactly; early stopping on the validation objective.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml.data import Binner, JointBins, Standardiser, split_indices
from ml.files import write_atomically
from ml.noise import der_snr_noise

VARIANTS = ("noAT", "AT", "mdAT")
DECODERS = ("joint", "modulated", "opacity", "species")
SPECIES_MAPS = ("linear", "identity")
ENCODERS = ("joint", "residual")
ADVERSARIAL = ("bounded", "capped", "raw", "confusion")
BOUND_FACTOR = 3.0  # "bounded": CE counts up to 3 × its chance value ln K
CODE_VERSION = "disentangler-1"


@dataclass
class DisentanglerConfig:
    """Every hyperparameter. Architecture defaults are the seed's (Santoveña et al., §3)."""

    conditional: tuple[str, ...] = ("teff", "logg")
    variant: str = "mdAT"
    latent_dim: int = 25
    encoder_hidden: tuple[int, ...] = (512, 256)
    decoder_hidden: tuple[int, ...] = (256, 512)
    discriminator_hidden: tuple[int, ...] = (64, 32)
    n_bins: int = 10
    binning: str = "uniform"  # or "quantile"
    lambdas: tuple[float, ...] = (0.01,)  # one per discriminator (or one for all)
    adversarial: str = "bounded"  # "bounded" (CE ≤ 3 ln K), "capped" (≤ ln K), "raw" (reference), "confusion"
    disc_steps: int = 5
    standardise_latent: bool = False  # non-affine BatchNorm on the encoder output (z has unit scale)
    latent_noise: float = 0.0  # σ of Gaussian noise added to (standardised) z in training: a capacity limit
    decoder: str = "joint"  # "joint" (seed: MLP over z ⊕ cp), "modulated" (g(cp) + s(cp) ⊙ f(z); see ModulatedDecoder), "opacity" (g + s ⊙ tanh(f(z) + b(cp)); see OpacityDecoder) or "species" (g + Σₖ sₖ ⊙ σ(aₖ(z) + bₖ(cp)); see SpeciesDecoder)
    n_species: int = 25  # the "species" decoder's K: saturating components, one abundance aₖ(z) each
    species_rank: int = 16  # the "species" decoder's J: its per-pixel shifts bₖ are a rank-J function of cp
    species_map: str = "linear"  # the "species" decoder's a(z): "linear" (a = A z + c, learned) or "identity" (a = z; needs n_species == latent_dim)
    modulator_hidden: tuple[int, ...] = (64, 256)  # the "modulated"/"opacity" decoder's cp → (g, s[, b]) network
    encoder: str = "joint"  # "joint" (seed: MLP over x ⊕ cp) or "residual" (h of the pattern read back through the decoder; needs decoder "modulated" or "opacity")
    independence: float = 0.0  # μ: weight of a kernel dependence penalty μ · CKA(z, cp) per batch (0 = off; AT/mdAT only; see kernel_dependence)
    mean_independence: float = 0.0  # ρ: weight of ρ · mean_dependence(z, cp) per batch, the share of z's variance a quadratic in cp explains (0 = off; AT/mdAT only)
    noise_invariance: float = 0.0  # ν: weight of the re-observation term ν · reobservation_ratio (0 = off; every variant)
    epochs: int = 200
    batch_size: int = 50
    lr_autoencoder: float = 1e-3
    lr_discriminator: float = 1e-3
    validation: float = 0.1
    test: float = 0.1
    patience: int = 20  # epochs without validation improvement before stopping; 0 = never stop early
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda"
    amp: bool = True  # bf16 autocast on CUDA only

    def __post_init__(self):
        self.conditional = tuple(self.conditional)
        self.encoder_hidden, self.decoder_hidden = tuple(self.encoder_hidden), tuple(self.decoder_hidden)
        self.discriminator_hidden = tuple(self.discriminator_hidden)
        self.modulator_hidden = tuple(self.modulator_hidden)
        self.lambdas = tuple(float(v) for v in (self.lambdas if isinstance(self.lambdas, (list, tuple)) else [self.lambdas]))
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        if self.adversarial not in ADVERSARIAL:
            raise ValueError(f"adversarial must be one of {ADVERSARIAL}, not {self.adversarial!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, not {self.decoder!r}")
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, not {self.encoder!r}")
        if self.encoder == "residual" and self.decoder not in PATTERN_DECODERS:
            raise ValueError("encoder 'residual' inverts the decoder's g(cp) and s(cp), which only the modulated "
                             "and opacity decoders have: set decoder: modulated or opacity")
        if self.n_species < 1 or self.species_rank < 1:
            raise ValueError("n_species and species_rank must be >= 1")
        if self.species_map not in SPECIES_MAPS:
            raise ValueError(f"species_map must be one of {SPECIES_MAPS}, not {self.species_map!r}")
        if self.species_map == "identity" and self.n_species != self.latent_dim:
            raise ValueError(f"species_map 'identity' makes each latent one component's abundance: n_species "
                             f"({self.n_species}) must equal latent_dim ({self.latent_dim})")
        if not self.conditional:
            raise ValueError("at least one conditional parameter is needed")
        if self.batch_size < 2 or self.epochs < 1 or self.latent_dim < 1:
            raise ValueError("batch_size >= 2, epochs >= 1 and latent_dim >= 1 are required")
        if self.independence < 0:
            raise ValueError("independence must be >= 0")
        if self.mean_independence < 0:
            raise ValueError("mean_independence must be >= 0")
        if self.noise_invariance < 0:
            raise ValueError("noise_invariance must be >= 0")
        if self.latent_noise < 0 or (self.latent_noise and not self.standardise_latent):
            raise ValueError("latent_noise must be >= 0 and needs standardise_latent (noise is relative to unit scale)")
        if len(self.lambdas) not in (1, self.n_discriminators):
            raise ValueError(f"give one λ or one per discriminator ({self.n_discriminators})")

    @property
    def n_discriminators(self) -> int:
        return 1 if self.variant == "AT" else len(self.conditional)

    def lambda_for(self, index: int) -> float:
        if self.variant == "noAT":
            return 0.0
        return self.lambdas[0] if len(self.lambdas) == 1 else self.lambdas[index]

    @property
    def independence_weight(self) -> float:
        """μ as applied: noAT is the λ = 0 baseline, so it feels no push on z at all."""
        return 0.0 if self.variant == "noAT" else self.independence

    @property
    def mean_independence_weight(self) -> float:
        """ρ as applied: like μ, none for noAT."""
        return 0.0 if self.variant == "noAT" else self.mean_independence

    @classmethod
    def from_dict(cls, data: dict) -> "DisentanglerConfig":
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown disentangler setting(s): {', '.join(sorted(unknown))}")
        return cls(**data)


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if k < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def discriminator(config: DisentanglerConfig, n_classes: int) -> nn.Sequential:
    """One discriminator, z (B, latent_dim) → logits (B, n_classes). It first standardises z with
    batch statistics (no learned affine), so an encoder cannot hide a parameter from it by inflating
    the latent's scale."""
    return nn.Sequential(nn.BatchNorm1d(config.latent_dim, affine=False),
                         *_mlp([config.latent_dim, *config.discriminator_hidden, n_classes]))


class ModulatedDecoder(nn.Module):
    """x̂ = g(cp) + s(cp) ⊙ f(z): a decoder in which z may only act through one pattern per star.

    f (B, 25) → (B, P) is the seed decoder's MLP without cp; g and s (B, C) → (B, P) come from one
    small MLP on cp (s starts at 1). The seed's joint decoder D(z ⊕ cp) can undo any reshuffling
    of z that depends on Teff and logg, so the adversary is free to hide them that way, and twins
    land apart (README, "Where the twins are lost"). Here a star's chemistry pattern f(z) is the
    same at every cp, and cp can only move the mean spectrum g and scale each pixel's response s
    (how a line's depth answers its abundance at that Teff and logg). A reshuffle of z would change
    the pattern itself, which the decoder cannot undo. Not the seed's model: opt in with
    ``DisentanglerConfig(decoder="modulated")``.
    """

    n_maps = 2  # per-pixel maps of cp: the mean g and the gain s
    initial_gain = 1.0  # s₀, the gain before training

    def __init__(self, n_pixels: int, n_cp: int, config: DisentanglerConfig):
        super().__init__()
        self.n_pixels = n_pixels
        self.pattern = _mlp([config.latent_dim, *config.decoder_hidden, n_pixels])  # f: (B, 25) → (B, P)
        # (g, s − s₀[, b]): (B, C) → (B, n_maps · P)
        self.modulator = _mlp([n_cp, *config.modulator_hidden, self.n_maps * n_pixels])
        self.gain_floor = 0.1  # regularises the division by s in pattern_estimate (s starts at s₀)
        nn.init.zeros_(self.modulator[-1].weight)
        nn.init.zeros_(self.modulator[-1].bias)

    def modulation(self, cp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean spectrum g(cp) and the per-pixel gain s(cp), each (B, P), for cp (B, C)."""
        mean, gain = self.modulator(cp).split(self.n_pixels, dim=1)
        return mean, self.initial_gain + gain

    def forward(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        mean, scale = self.modulation(cp)
        return torch.addcmul(mean, scale, self.pattern(z))

    def pattern_estimate(self, x: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        """(x − g(cp)) / s(cp), (B, P): the spectrum's own pattern as this decoder would read it.

        g and s are detached (the encoder cannot move them to pass cp through), and the division
        is regularised, s / (s² + ``gain_floor``²), so a pixel whose gain crosses zero does not
        blow up. Under the residual encoder the modulator runs twice per training step (here,
        detached, and in the decoder); it is a small network next to the encoder.
        """
        mean, scale = (part.detach() for part in self.modulation(cp))
        return self._divide(x - mean, scale)

    def _divide(self, departure: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """departure / scale, regularised: departure · s / (s² + ``gain_floor``²)."""
        return departure * scale / (scale * scale + self.gain_floor**2)


class OpacityDecoder(ModulatedDecoder):
    """x̂ = g(cp) + s(cp) ⊙ tanh(f(z) + b(cp)): z moves each pixel's optical depth, not its flux.

    The grids' lines (``ml.synth.stellar``) saturate: a pixel's depth is a fixed, monotone function
    of its opacity, and the opacity's logarithm is a sum of the abundance's term and a term in Teff
    and logg (excitation, ionisation, pressure, the profile's width). So a line's response to its
    abundance is not one gain per pixel, as ``ModulatedDecoder`` allows: a saturated line barely
    answers its abundance at a cool Teff and answers it fully at a hot one. Here the star's pattern
    f(z) (B, P) and a per-pixel shift b(cp) (B, P) add inside one saturating curve, and g and s map
    it to the standardised flux. z still acts only through one pattern per star, which a reshuffle
    of z that depends on cp would change, so the decoder cannot undo one. Not the seed's model:
    opt in with ``DisentanglerConfig(decoder="opacity")``.
    """

    n_maps = 3  # the mean g, the gain s and the shift b
    initial_gain = 3.0  # standardised flux spans a few units; tanh spans ±1
    saturation = 0.995  # pattern_estimate clips the curve here before inverting it (atanh 0.995 ≈ 3.0)

    def modulation(self, cp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """g(cp), s(cp) and the shift b(cp), each (B, P), for cp (B, C)."""
        mean, gain, shift = self.modulator(cp).split(self.n_pixels, dim=1)
        return mean, self.initial_gain + gain, shift

    def forward(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        mean, scale, shift = self.modulation(cp)
        return torch.addcmul(mean, scale, torch.tanh(self.pattern(z) + shift))

    def pattern_estimate(self, x: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        """atanh((x − g) / s) − b, (B, P): the decoder inverted, with g, s and b detached.

        The ratio is clipped to ±``saturation`` first, so that noise on a saturated pixel reads
        as "saturated" rather than as an infinite pattern.
        """
        mean, scale, shift = (part.detach() for part in self.modulation(cp))
        ratio = self._divide(x - mean, scale).clamp(-self.saturation, self.saturation)
        return torch.atanh(ratio) - shift


PATTERN_DECODERS = {"modulated": ModulatedDecoder, "opacity": OpacityDecoder}  # z acts through one pattern f(z)


class SpeciesDecoder(nn.Module):
    """x̂ = g(cp) + Σₖ sₖ ⊙ σ(aₖ(z) + bₖ(cp)): z acts only through K abundances aₖ(z).

    Why. On the grids (``ml.synth.stellar``) a line's opacity is its element's abundance times a
    factor in Teff and logg (excitation, ionisation, pressure, the profile), each line saturates,
    and the instrument then adds the depths of lines that fall in one pixel. ``OpacityDecoder``
    allows one saturating curve per pixel. A pixel where lines of two species blend, each
    answering Teff and logg in its own way, does not fit that form, and the encoder can pay for the
    misfit by keeping Teff in z. Here each pixel is a sum of K saturating components. Component k
    has one abundance aₖ(z) per star, a scalar shared by every pixel, a per-pixel depth sₖ, and a
    per-pixel shift bₖ(cp): how strong that species' lines are at each wavelength, at that Teff
    and logg. A star's spectrum is then fixed by the K numbers a(z) and by cp. A reshuffle of z
    that depends on cp changes a(z), and the decoder cannot undo it, except a shift of each aₖ by a
    function of cp, which bₖ(cp) can take back (this is where the mdAT runs keep Teff: see the
    module docstring). With K = latent size and A of full rank, a = A z + c is one-to-one, so z is
    a set of coordinates for the abundances. No grid-specific knowledge enters: which pixels
    belong to which component, and how they answer cp, are learned.

    Shapes: z (B, L), cp (B, C) → x̂ (B, P). a(z) (B, K) is linear in z. g(cp) (B, P) comes from the
    modulator MLP (``modulator_hidden``); the depths s (K, P) are free weights; the shifts
    b(cp) (B, K, P) are a rank-J factorisation, b₀ + Σⱼ φⱼ(cp) Wⱼ, with φ a small MLP on cp
    (J = ``species_rank``; K·J·P weights). W starts at zero, so the components start independent
    of cp, and b₀ starts spread so that the components differ. Rows are decoded in chunks of
    ``chunk`` stars, because a (B, K, P) map for a whole validation split would not fit in memory.
    ``decoder_hidden`` is not used. Not the seed's model: opt in with
    ``DisentanglerConfig(decoder="species")``, with the seed's encoder (there is no closed-form
    inverse for a residual encoder). ``species_map="identity"`` drops A: a(z) = z, one latent per
    component (K = latent size), so no direction of z is one that the spectrum ignores.
    """

    initial_depth = -0.25  # sₖ before training: K components together span a few units of standardised flux
    chunk = 512  # stars decoded at a time (memory: K·P floats per star)

    def __init__(self, n_pixels: int, n_cp: int, config: DisentanglerConfig):
        super().__init__()
        n_species, rank = config.n_species, config.species_rank
        self.n_pixels, self.n_species = n_pixels, n_species
        # a: (B, L) → (B, K); "identity" leaves no direction of z that the spectrum ignores
        self.abundance = nn.Linear(config.latent_dim, n_species) if config.species_map == "linear" else nn.Identity()
        self.modulator = _mlp([n_cp, *config.modulator_hidden, n_pixels])  # g: (B, C) → (B, P)
        nn.init.zeros_(self.modulator[-1].weight)
        nn.init.zeros_(self.modulator[-1].bias)
        self.depth = nn.Parameter(torch.full((n_species, n_pixels), self.initial_depth))  # s: (K, P)
        self.basis = _mlp([n_cp, 64, rank])  # φ: (B, C) → (B, J)
        self.shift_base = nn.Parameter(torch.linspace(-2.0, 2.0, n_species)[:, None]
                                       + 0.1 * torch.randn(n_species, n_pixels))  # b₀: (K, P)
        self.response = nn.Parameter(torch.zeros(rank, n_species * n_pixels))  # W: (J, K·P)

    def shifts(self, cp: torch.Tensor) -> torch.Tensor:
        """bₖ(cp), (B, K, P), for cp (B, C)."""
        return self.shift_base + (self.basis(cp) @ self.response).view(-1, self.n_species, self.n_pixels)

    def forward(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        if len(z) > self.chunk:
            return torch.cat([self(z[i : i + self.chunk], cp[i : i + self.chunk]) for i in range(0, len(z), self.chunk)])
        occupancy = torch.sigmoid(self.abundance(z)[:, :, None] + self.shifts(cp))  # (B, K, P)
        return self.modulator(cp) + (self.depth * occupancy).sum(1)


class Disentangler(nn.Module):
    """The networks. Shapes: x (B, P) standardised flux; cp (B, C) standardised parameters."""

    def __init__(self, n_pixels: int, config: DisentanglerConfig, n_classes: list[int]):
        super().__init__()
        n_cp = len(config.conditional)
        self.n_pixels = n_pixels
        self.reads_residual = config.encoder == "residual"
        n_in = n_pixels if self.reads_residual else n_pixels + n_cp
        self.encoder = _mlp([n_in, *config.encoder_hidden, config.latent_dim])  # (B, P+C) or (B, P) → (B, 25)
        if config.standardise_latent:
            self.encoder.append(nn.BatchNorm1d(config.latent_dim, affine=False))
        if config.decoder in PATTERN_DECODERS:
            self.decoder = PATTERN_DECODERS[config.decoder](n_pixels, n_cp, config)  # (B, 25), (B, C) → (B, P)
        elif config.decoder == "species":
            self.decoder = SpeciesDecoder(n_pixels, n_cp, config)
        else:
            self.decoder = _mlp([config.latent_dim + n_cp, *config.decoder_hidden, n_pixels])  # (B, 25+C) → (B, P)
        self.discriminators = nn.ModuleList(discriminator(config, k) for k in n_classes)

    def encode(self, x: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        if self.reads_residual:
            return self.encoder(self.decoder.pattern_estimate(x, cp))
        return self.encoder(torch.cat([x, cp], dim=1))

    def decode(self, z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
        if isinstance(self.decoder, (ModulatedDecoder, SpeciesDecoder)):
            return self.decoder(z, cp)
        return self.decoder(torch.cat([z, cp], dim=1))


class RawInputEncoder(nn.Module):
    """Inference-only encoder on *raw* flux (B, P) and parameters (B, C) → z (B, 25).

    The standardisations are folded into the first layer: with x' = (x − μ) / σ,
    W x' + b = (W / σ) x + (b − (W / σ) μ). One GEMM then reads the raw flux buffer directly,
    with no standardised copy of a (B, 7214) batch and no concatenation: the embedding fill's
    encode step costs one pass over the data. Same result as ``Disentangler.encode`` to float32
    rounding (tested).
    """

    def __init__(self, model: Disentangler, flux_mean, flux_scale, parameter_mean, parameter_scale):
        super().__init__()
        first = model.encoder[0]
        n_pixels = len(flux_mean)
        weight, bias = first.weight.detach().float(), first.bias.detach().float()
        as_tensor = lambda v: torch.as_tensor(np.asarray(v, np.float32), device=weight.device)  # noqa: E731
        w_flux = weight[:, :n_pixels] / as_tensor(flux_scale)  # (H, P)
        w_cp = weight[:, n_pixels:] / as_tensor(parameter_scale)  # (H, C)
        self.register_buffer("w_flux_t", w_flux.t().contiguous())  # (P, H)
        self.register_buffer("w_cp_t", w_cp.t().contiguous())  # (C, H)
        self.register_buffer("bias", bias - w_flux @ as_tensor(flux_mean) - w_cp @ as_tensor(parameter_mean))
        self.rest = copy.deepcopy(model.encoder[1:])

    def forward(self, flux: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
        hidden = torch.addmm(self.bias, flux, self.w_flux_t).addmm_(parameters, self.w_cp_t)
        return self.rest(hidden)


def _adversarial_term(logits: torch.Tensor, target: torch.Tensor, mode: str) -> torch.Tensor:
    """What the autoencoder adds per discriminator (before λ): lower = more confused discriminator."""
    n_classes = logits.shape[1]
    if mode == "confusion":  # CE against the uniform distribution, ≥ ln K
        return -F.log_softmax(logits, dim=1).mean(dim=1).mean() - math.log(n_classes)
    ce = F.cross_entropy(logits, target, ignore_index=JointBins.IGNORE)
    if mode == "raw":
        return -ce
    if mode == "bounded":
        return -torch.clamp(ce, max=BOUND_FACTOR * math.log(n_classes))
    return -torch.clamp(ce, max=math.log(n_classes))


def _centred_gram(values: torch.Tensor) -> torch.Tensor:
    """Double-centred Gaussian Gram matrix (B, B) of rows (B, D), bandwidth² = median squared distance."""
    squared = torch.cdist(values, values).square()
    bandwidth = squared.detach().flatten().median().clamp_min(1e-12)
    gram = torch.exp(-squared / (2 * bandwidth))
    return gram - gram.mean(dim=0, keepdim=True) - gram.mean(dim=1, keepdim=True) + gram.mean()


def kernel_dependence(z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
    """Centred kernel alignment (normalised HSIC) of z (B, 25) and cp (B, C) on one batch, in [0, 1].

    0 when z is independent of cp (as B grows), 1 when one determines the other. Unlike a
    discriminator it is refitted from scratch on every batch, so an encoder cannot pass it by
    moving the parameters to where a trained discriminator no longer looks; the median-distance
    bandwidth makes it blind to the latent's scale. Its blind spot is the kernel's: on 200 stars a
    latent with (Teff, logg) in 2 of its 25 dimensions scores 0.26 against 0.06 for an independent
    one, but sin(3·cp) in those dimensions only 0.07, so a code folded at high frequency mostly
    escapes it. Not in the seed: opt in with ``independence``.
    """
    gram_z, gram_cp = _centred_gram(z), _centred_gram(cp)
    cross = (gram_z * gram_cp).sum()
    return cross / ((gram_z * gram_z).sum() * (gram_cp * gram_cp).sum()).sqrt().clamp_min(1e-12)


def mean_dependence(z: torch.Tensor, cp: torch.Tensor) -> torch.Tensor:
    """The share of z's spread that its conditional mean in cp explains on one batch, in [0, 1].

    z (B, L), cp (B, C) standardised → a scalar: for each latent, the fraction of its variance over
    the batch that a least-squares quadratic in cp (1, cpᵢ, cpᵢ·cpⱼ: M = 1 + C + C(C+1)/2 terms)
    explains, averaged over the latents. 1 when every latent is such a function of cp; for a z
    unrelated to cp it sits at chance, about (M − 1)/(B − 1) (0.10 for Teff and logg in batches of
    50). Blind to each latent's scale. Why: the species decoder's σ(aₖ + bₖ(cp)) is unchanged when
    an abundance is shifted by a function of cp and bₖ by its opposite, and that is where Teff was
    found in its mdAT runs (each latent's mean moves by about 0.2σ across the Teff range, where an
    unrelated z moves by 0.05σ) while the discriminators sat at chance. Refitted from scratch on
    every batch, like ``kernel_dependence``, so it cannot be outrun, but it only sees the mean: a
    parameter coded in how z spreads escapes it. Not in the seed: opt in with ``mean_independence``.
    """
    columns = [torch.ones_like(cp[:, :1]), cp]
    columns += [cp[:, i : i + 1] * cp[:, i:] for i in range(cp.shape[1])]  # cpᵢ·cpⱼ, j ≥ i
    if len(z) <= 2 * sum(c.shape[1] for c in columns):  # too few stars to tell a trend from chance
        return z.sum() * 0.0
    basis, _ = torch.linalg.qr(torch.cat(columns, dim=1))  # (B, M), orthonormal columns spanning the design
    centred = z - z.mean(dim=0, keepdim=True)
    explained = (basis.t() @ centred).square().sum(dim=0)  # (L,): the constant column sees nothing of centred z
    return (explained / centred.square().sum(dim=0).clamp_min(1e-12)).mean()


def reobservation_ratio(z: torch.Tensor, z_again: torch.Tensor) -> torch.Tensor:
    """How much of each latent dimension's spread a re-observation of the same stars moves: the mean
    over dimensions of E[(z_d − z'_d)²] / (2 · Var(z_d)) on one batch. z (B, D) encodes the spectra
    as observed, z_again (B, D) the same spectra with fresh noise of their own level added.

    0 when noise moves no star in z; about 1 for a dimension that only encodes noise. It is blind to
    the scale of each dimension, so the encoder cannot lower it by shrinking or inflating z, only by
    keeping in z what survives a second look at the star. That is what a nearest-neighbour (twin)
    search in z needs: two spectra of the same chemistry at S/N 50 should land close. A dimension
    that is constant over the batch scores 0. Not in the seed: opt in with ``noise_invariance``.
    """
    spread = z.var(dim=0, unbiased=False).clamp_min(1e-8)  # (D,)
    return ((z - z_again).square().mean(dim=0) / (2 * spread)).mean()


def _chance_cross_entropy(targets: np.ndarray) -> list[float]:
    """Per discriminator, the CE (nats) of predicting the class frequencies: the entropy of the
    training targets (N, n_discriminators), ignoring unlabelled rows. Grids with few occupied bins
    score below ln K even for a latent that carries nothing."""
    chance = []
    for column in np.asarray(targets).T:
        _, counts = np.unique(column[column != JointBins.IGNORE], return_counts=True)
        frequency = counts / max(counts.sum(), 1)
        chance.append(float(-(frequency * np.log(frequency)).sum()))
    return chance


def choose_device(preference: str = "auto") -> torch.device:
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(preference)


@dataclass
class Preprocessing:
    """Fitted on the training split; part of every artifact."""

    flux: Standardiser
    parameters: Standardiser
    binners: list[Binner]
    joint: JointBins | None
    parameter_range: dict[str, tuple[float, float]]

    def state(self) -> dict:
        return {"flux": self.flux.state(), "parameters": self.parameters.state(),
                "binners": [b.state() for b in self.binners], "joint": None if self.joint is None else self.joint.state(),
                "parameter_range": {k: list(v) for k, v in self.parameter_range.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "Preprocessing":
        return cls(flux=Standardiser.from_state(state["flux"]), parameters=Standardiser.from_state(state["parameters"]),
                   binners=[Binner.from_state(b) for b in state["binners"]],
                   joint=None if state["joint"] is None else JointBins.from_state(state["joint"]),
                   parameter_range={k: tuple(v) for k, v in state["parameter_range"].items()})

    def targets(self, parameters: np.ndarray) -> np.ndarray:
        """Class targets (N, n_discriminators) for the raw parameters (N, C)."""
        bins = np.stack([b.transform(parameters[:, k]) for k, b in enumerate(self.binners)], axis=1)
        return self.joint.transform(bins)[:, None] if self.joint is not None else bins


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    best_objective: float = float("inf")
    stopped_early: bool = False


class DisentanglerTrainer:
    """Trains, evaluates, saves and loads a disentangler on arrays.

    flux: (N, P) float32 continuum-normalised spectra; parameters: (N, C) raw values of
    ``config.conditional`` (K, dex). ``split`` (optional) gives train/validation/test indices.
    """

    def __init__(self, config: DisentanglerConfig, flux: np.ndarray | None = None, parameters: np.ndarray | None = None,
                 split: dict[str, np.ndarray] | None = None):
        self.config = config
        self.device = choose_device(config.device)
        self.history = History()
        self.model: Disentangler | None = None
        self.preprocessing: Preprocessing | None = None
        self.epoch = 0
        if flux is not None:
            self._prepare(np.asarray(flux, dtype=np.float32), np.asarray(parameters, dtype=np.float32), split)

    # ------------------------------------------------------------------ setup

    def _prepare(self, flux: np.ndarray, parameters: np.ndarray, split) -> None:
        cfg = self.config
        if flux.ndim != 2 or parameters.shape != (len(flux), len(cfg.conditional)):
            raise ValueError(f"flux must be (N, P) and parameters (N, {len(cfg.conditional)}); got {flux.shape}, {parameters.shape}")
        if not (np.isfinite(flux).all() and np.isfinite(parameters).all()):
            raise ValueError("flux and parameters must be finite")
        self.split = split or split_indices(len(flux), cfg.validation, cfg.test, cfg.seed)
        train = self.split["train"]
        if len(train) < cfg.batch_size:
            raise ValueError(f"the training split ({len(train)}) is smaller than one batch ({cfg.batch_size})")
        binners = [Binner.fit(parameters[train, k], cfg.n_bins, cfg.binning) for k in range(len(cfg.conditional))]
        bins = np.stack([b.transform(parameters[train, k]) for k, b in enumerate(binners)], axis=1)
        joint = JointBins.fit(bins, cfg.n_bins) if cfg.variant == "AT" else None
        self.preprocessing = Preprocessing(
            flux=Standardiser.fit(flux[train], per_feature=False), parameters=Standardiser.fit(parameters[train]),
            binners=binners, joint=joint,
            parameter_range={name: (float(parameters[train, k].min()), float(parameters[train, k].max()))
                             for k, name in enumerate(cfg.conditional)})
        n_classes = [joint.n_classes] if joint is not None else [b.n_bins for b in binners]
        torch.manual_seed(cfg.seed)
        self.model = Disentangler(flux.shape[1], cfg, n_classes).to(self.device)
        self._optimisers()
        prep = self.preprocessing
        to = lambda a, dtype=torch.float32: torch.as_tensor(a, dtype=dtype, device=self.device)  # noqa: E731
        # The whole dataset lives on the device; batches are index_select, with no host round trip.
        self.x = to(prep.flux.transform(flux))
        self.cp = to(prep.parameters.transform(parameters))
        targets = prep.targets(parameters)
        self.targets = to(targets, torch.int64)
        self.chance_ce = _chance_cross_entropy(targets[train])
        # Each spectrum's own noise (DER_SNR), in standardised flux units: the re-observation term's noise.
        self.noise = to(self.noise_level(flux) / prep.flux.scale.mean()) if cfg.noise_invariance else None
        self.noise_generator = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)  # the re-observations' own stream
        # z noise has its own stream too: what else the process does with torch's global RNG between
        # epochs (a probe, another task in the same worker) must not change the training.
        self.latent_generator = torch.Generator(device=self.device).manual_seed(cfg.seed + 2)
        self.generator = torch.Generator(device="cpu").manual_seed(cfg.seed)

    @staticmethod
    def noise_level(flux: np.ndarray) -> np.ndarray:
        """Each spectrum's 1σ noise (N,) in flux units, measured from the spectrum (DER_SNR; 0 where it
        cannot be measured). On the APOGEE-like grid at S/N 50 it reads 1.26× the generator's median
        error, because absorption lines add curvature on the scale of a few pixels."""
        return np.nan_to_num(der_snr_noise(flux), nan=0.0, posinf=0.0).astype(np.float32)

    def _optimisers(self) -> None:
        autoencoder = list(self.model.encoder.parameters()) + list(self.model.decoder.parameters())
        fused = self.device.type == "cuda"
        self.optimiser_ae = torch.optim.Adam(autoencoder, lr=self.config.lr_autoencoder, fused=fused)
        self.optimiser_d = torch.optim.Adam(self.model.discriminators.parameters(), lr=self.config.lr_discriminator, fused=fused)

    # ------------------------------------------------------------------ training

    def _autocast(self):
        enabled = self.config.amp and self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=enabled)

    def _step(self, index: torch.Tensor, sums: torch.Tensor) -> None:
        """One mini-batch: discriminator step(s) on detached z, then one autoencoder step."""
        cfg, model = self.config, self.model
        x, cp, target = self.x[index], self.cp[index], self.targets[index]
        with self._autocast():
            z = model.encode(x, cp)  # (B, 25)
        z_fixed = z.detach().float()
        for _ in range(cfg.disc_steps):
            d_loss = sum(F.cross_entropy(d(z_fixed), target[:, k], ignore_index=JointBins.IGNORE)
                         for k, d in enumerate(model.discriminators))
            self.optimiser_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.optimiser_d.step()
        with self._autocast():
            if cfg.latent_noise:
                z_decoded = z + cfg.latent_noise * torch.randn(z.shape, generator=self.latent_generator, device=z.device,
                                                               dtype=z.dtype)
            else:
                z_decoded = z
            reconstruction = F.mse_loss(model.decode(z_decoded, cp).float(), x)
            adversarial = torch.zeros((), device=self.device)
            for k, d in enumerate(model.discriminators):
                weight = cfg.lambda_for(k)
                if weight:
                    adversarial = adversarial + weight * _adversarial_term(d(z.float()), target[:, k], cfg.adversarial)
            if cfg.independence_weight:
                adversarial = adversarial + cfg.independence_weight * kernel_dependence(z.float(), cp)
            if cfg.mean_independence_weight:
                adversarial = adversarial + cfg.mean_independence_weight * mean_dependence(z.float(), cp)
            # The opt-in pushes on z other than the discriminators are summed in here too, so the
            # history's "train_adversarial" is every term beyond reconstruction.
            if cfg.noise_invariance:  # the same stars, observed again at their own noise level
                fresh = torch.randn(x.shape, generator=self.noise_generator, device=self.device)
                reobserved = x + self.noise[index, None] * fresh
                adversarial = adversarial + cfg.noise_invariance * reobservation_ratio(z.float(), model.encode(reobserved, cp).float())
        self.optimiser_ae.zero_grad(set_to_none=True)
        (reconstruction + adversarial).backward()
        self.optimiser_ae.step()
        sums += torch.stack([reconstruction.detach(), adversarial.detach(), d_loss.detach(), torch.ones((), device=self.device)])

    @torch.no_grad()
    def _evaluate(self, index: np.ndarray) -> dict:
        """Reconstruction MSE, discriminator CE and accuracy, and the objective on a split."""
        cfg, model = self.config, self.model
        model.eval()
        totals = {"reconstruction": 0.0, "adversarial": 0.0, "ce": [0.0] * cfg.n_discriminators,
                  "accuracy": [0.0] * cfg.n_discriminators, "labelled": [0] * cfg.n_discriminators}
        count = 0
        for start in range(0, len(index), 4096):
            chunk = torch.as_tensor(index[start : start + 4096], device=self.device)
            x, cp, target = self.x[chunk], self.cp[chunk], self.targets[chunk]
            z = model.encode(x, cp)
            n = len(chunk)
            totals["reconstruction"] += F.mse_loss(model.decode(z, cp), x, reduction="sum").item() / x.shape[1]
            for k, d in enumerate(model.discriminators):
                logits = d(z)
                valid = target[:, k] != JointBins.IGNORE
                if valid.any():
                    totals["ce"][k] += F.cross_entropy(logits[valid], target[valid, k], reduction="sum").item()
                    totals["accuracy"][k] += (logits[valid].argmax(1) == target[valid, k]).float().sum().item()
                    totals["labelled"][k] += int(valid.sum())
                if cfg.lambda_for(k):
                    term = _adversarial_term(logits, target[:, k], cfg.adversarial).item()
                    totals["adversarial"] += cfg.lambda_for(k) * term * n
            count += n
        model.train()
        labelled = [max(n, 1) for n in totals["labelled"]]
        result = {"reconstruction": totals["reconstruction"] / count, "adversarial": totals["adversarial"] / count,
                  "disc_ce": [v / n for v, n in zip(totals["ce"], labelled)],
                  "disc_accuracy": [v / n for v, n in zip(totals["accuracy"], labelled)]}
        # What the discriminators still read from z: CE below chance (the entropy of the training
        # bins, what a discriminator that sees nothing scores), never rewarded above it.
        result["leak"] = sum(cfg.lambda_for(k) * max(0.0, self.chance_ce[k] - ce)
                             for k, ce in enumerate(result["disc_ce"]))
        result["objective"] = result["reconstruction"] + result["leak"]
        return result

    def fit(self, epochs: int | None = None, checkpoint: str | Path | None = None,
            on_epoch: Callable[[dict], None] | None = None, should_stop: Callable[[], bool] | None = None) -> History:
        """Train (or continue) up to ``epochs`` (default ``config.epochs``). With ``checkpoint``,
        resume from it when it exists, and write it after every epoch (atomically)."""
        cfg = self.config
        epochs = cfg.epochs if epochs is None else epochs
        if checkpoint is not None and Path(checkpoint).exists() and self.epoch == 0:
            self._load_checkpoint(checkpoint)
        train = self.split["train"]
        n_batches = math.ceil(len(train) / cfg.batch_size)
        train_index = torch.as_tensor(train, device=self.device)
        if self.history.best_epoch < 0:
            self._best_state = copy.deepcopy(self.model.state_dict())
        while self.epoch < epochs and not self.history.stopped_early:
            started = time.perf_counter()
            # Training mode every epoch: encode() or generate() between fit() calls leave the model in
            # eval mode, and the BatchNorms (discriminators, standardised z) would then train on their
            # running statistics instead of the batch's.
            self.model.train()
            order = train_index[torch.randperm(len(train), generator=self.generator).to(self.device)]
            sums = torch.zeros(4, device=self.device)
            for b in range(n_batches):
                batch = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                if len(batch) < 2:
                    continue
                self._step(batch, sums)
            sums = (sums[:3] / sums[3]).tolist()  # one host sync per epoch
            validation = self._evaluate(self.split["validation"]) if len(self.split["validation"]) else None
            self.epoch += 1
            record = {"epoch": self.epoch, "train_reconstruction": sums[0], "train_adversarial": sums[1],
                      "train_disc_ce": sums[2], "seconds": time.perf_counter() - started,
                      "samples_per_s": len(train) / (time.perf_counter() - started)}
            if validation:
                record.update({f"val_{k}": v for k, v in validation.items()})
                objective = validation["objective"]
                if objective < self.history.best_objective - 1e-6:
                    self.history.best_objective, self.history.best_epoch = objective, self.epoch
                    self._best_state = copy.deepcopy(self.model.state_dict())
                elif cfg.patience and self.epoch - self.history.best_epoch >= cfg.patience:
                    self.history.stopped_early = True
            self.history.epochs.append(record)
            if checkpoint is not None:
                self._save_checkpoint(checkpoint)
            if on_epoch:
                on_epoch(record)
            if should_stop and should_stop():
                break
        return self.history

    def use_best(self) -> None:
        """Load the weights of the best validation epoch (after fit)."""
        if getattr(self, "_best_state", None) is not None and self.history.best_epoch > 0:
            self.model.load_state_dict(self._best_state)

    # ------------------------------------------------------------------ checkpoints

    def _checkpoint_state(self) -> dict:
        return {"config": asdict(self.config), "epoch": self.epoch, "model": self.model.state_dict(),
                "optimiser_ae": self.optimiser_ae.state_dict(), "optimiser_d": self.optimiser_d.state_dict(),
                "generator": self.generator.get_state(), "noise_generator": self.noise_generator.get_state(),
                "latent_generator": self.latent_generator.get_state(),
                "history": asdict(self.history),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state() if self.device.type == "cuda" else None,
                "best_state": getattr(self, "_best_state", None), "split": self.split,
                "preprocessing": self.preprocessing.state(), "code_version": CODE_VERSION}

    def _save_checkpoint(self, path: str | Path) -> None:
        state = self._checkpoint_state()
        write_atomically(path, lambda temporary: torch.save(state, temporary))  # a crash never leaves half a checkpoint

    def _load_checkpoint(self, path: str | Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimiser_ae.load_state_dict(state["optimiser_ae"])
        self.optimiser_d.load_state_dict(state["optimiser_d"])
        self.generator.set_state(state["generator"].cpu())  # generator states are CPU byte tensors, whatever the device
        if "noise_generator" in state:  # checkpoints written before the re-observation term lack it
            self.noise_generator.set_state(state["noise_generator"].cpu())
        if "latent_generator" in state:  # nor did those written before z noise had its own stream
            self.latent_generator.set_state(state["latent_generator"].cpu())
        torch.set_rng_state(state["torch_rng"].cpu())
        if state.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"].cpu())
        self.epoch = state["epoch"]
        history = state["history"]
        self.history = History(epochs=history["epochs"], best_epoch=history["best_epoch"],
                               best_objective=history["best_objective"], stopped_early=history["stopped_early"])
        self._best_state = state["best_state"]

    # ------------------------------------------------------------------ artifact (inference)

    def save(self, path: str | Path) -> Path:
        """The artifact: weights, preprocessing (scalers, binners, ranges), config, code version."""
        n_classes = [d[-1].out_features for d in self.model.discriminators]
        artifact = {"config": asdict(self.config), "model": self.model.state_dict(), "n_classes": n_classes,
                    "n_pixels": self.model.n_pixels, "preprocessing": self.preprocessing.state(),
                    "code_version": CODE_VERSION, "history": asdict(self.history)}
        return write_atomically(path, lambda temporary: torch.save(artifact, temporary))

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "DisentanglerTrainer":
        state = torch.load(path, map_location="cpu", weights_only=False)
        config = DisentanglerConfig.from_dict({**state["config"], "device": device})
        trainer = cls(config)
        trainer.preprocessing = Preprocessing.from_state(state["preprocessing"])
        trainer.model = Disentangler(state["n_pixels"], config, state["n_classes"]).to(trainer.device)
        trainer.model.load_state_dict(state["model"])
        trainer.model.eval()
        history = state.get("history") or {}
        trainer.history = History(**history) if history else History()
        return trainer

    # ------------------------------------------------------------------ use

    @torch.no_grad()
    def encode(self, flux: np.ndarray, parameters: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Latents (N, 25) for spectra (N, P) at their parameters (N, C)."""
        prep, model = self.preprocessing, self.model
        model.eval()
        out = []
        for start in range(0, len(flux), batch_size):
            x = torch.as_tensor(prep.flux.transform(flux[start : start + batch_size]), device=self.device)
            cp = torch.as_tensor(prep.parameters.transform(parameters[start : start + batch_size]), device=self.device)
            out.append(model.encode(x, cp).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)

    @torch.no_grad()
    def encode_raw(self, flux: np.ndarray, parameters: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Like :meth:`encode`, through :class:`RawInputEncoder` (faster for bulk fills).

        A residual encoder (``encoder="residual"``) reads the decoder's g(cp) before its first
        layer, so there is nothing to fold: it goes through :meth:`encode`.
        """
        if self.model.reads_residual:
            return self.encode(flux, parameters, batch_size)
        if getattr(self, "_raw_encoder", None) is None:
            prep = self.preprocessing
            self._raw_encoder = RawInputEncoder(self.model, prep.flux.mean, prep.flux.scale, prep.parameters.mean,
                                                prep.parameters.scale).to(self.device).eval()
        out = []
        for start in range(0, len(flux), batch_size):
            x = torch.as_tensor(np.asarray(flux[start : start + batch_size], np.float32), device=self.device)
            cp = torch.as_tensor(np.asarray(parameters[start : start + batch_size], np.float32), device=self.device)
            out.append(self._raw_encoder(x, cp).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.config.latent_dim), np.float32)

    @torch.no_grad()
    def generate(self, z: np.ndarray, parameters: np.ndarray) -> np.ndarray:
        """Spectra (N, P) of the stars with latents z (N, 25) at other parameters (N, C)."""
        prep, model = self.preprocessing, self.model
        model.eval()
        z = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.device)
        cp = torch.as_tensor(prep.parameters.transform(parameters), device=self.device)
        return prep.flux.inverse(model.decode(z, cp).float().cpu().numpy())

    def outside_training_range(self, parameters: np.ndarray) -> np.ndarray:
        """(N,) True where any parameter lies outside the training range (extrapolation)."""
        parameters = np.atleast_2d(parameters)
        outside = np.zeros(len(parameters), dtype=bool)
        for k, name in enumerate(self.config.conditional):
            low, high = self.preprocessing.parameter_range[name]
            outside |= (parameters[:, k] < low) | (parameters[:, k] > high)
        return outside

    def interpolate(self, z: np.ndarray, parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(spectra, extrapolated flag per star). Use for parameters inside the training range."""
        return self.generate(z, parameters), self.outside_training_range(parameters)

    extrapolate = interpolate  # same computation; the flag tells the caller which it was
