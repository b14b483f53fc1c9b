"""Ingestion speed: bulk COPY of a 40k-spectrum APOGEE-like grid over one and two COPY streams,
and FITS files per second: read only (no database), read and stored here, and read by two reader
processes (``ingest --jobs``) while this one stores.

    python bench/ingest.py [--profiles 200] [--fits 2000]

The grid (200 chemical profiles × 210 Teff/logg points = 42,000 spectra × 7214 px) is synthesised
once and cached in bench/out/ (1.2 GB, and as much again with noise at S/N 50), so the timing
covers only the database path:
encode rows → binary COPY → PostgreSQL (TOAST of the 29 kB flux values, WAL, heap). Synthesis
speed is reported separately. Runs on a throw-away database on the embedded server.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from _django import OUT, ROOT, bench_database, print_table


def synthesised_grid(profiles: int):
    from ml.synth.gridbuilder import GridSpec, iter_grid
    from ml.synth.stellar import StellarSpectrumModel

    spec = GridSpec(n_profiles=profiles, seed=0)
    OUT.mkdir(parents=True, exist_ok=True)
    cache = OUT / f"apogee_grid_{profiles}.npy"
    meta = OUT / f"apogee_grid_{profiles}_labels.npz"
    synth_rate = None
    if not cache.exists() or not meta.exists():
        model = StellarSpectrumModel("apogee")
        flux = np.lib.format.open_memmap(cache.with_suffix(".tmp.npy"), mode="w+", dtype=np.float32, shape=(len(spec), 7214))
        labels, start, started = {}, 0, time.perf_counter()
        for batch in iter_grid(spec, model, batch_size=512):
            flux[start : start + len(batch.designation)] = batch.flux
            for key, values in {**batch.labels, "group": batch.group, "ra": batch.ra, "dec": batch.dec}.items():
                labels.setdefault(key, []).append(values)
            start += len(batch.designation)
        synth_rate = len(spec) / (time.perf_counter() - started)
        flux.flush()
        del flux
        cache.with_suffix(".tmp.npy").rename(cache)
        np.savez(meta, **{key: np.concatenate(values) for key, values in labels.items()})
    return np.load(cache, mmap_mode="r"), dict(np.load(meta)), synth_rate


def noisy_grid(flux, profiles: int, snr: float):
    """The grid with Gaussian noise at S/N ``snr`` (1σ error 1/snr at every pixel), made once and
    cached beside it, so that a timed load times the database path and not the noise generator
    (which costs about as much CPU per spectrum as the load)."""
    cache = OUT / f"apogee_grid_{profiles}_snr{snr:g}.npy"
    if not cache.exists():
        rng = np.random.default_rng(1)
        noisy = np.lib.format.open_memmap(cache.with_suffix(".tmp.npy"), mode="w+", dtype=np.float32, shape=flux.shape)
        for start in range(0, len(flux), 4096):
            chunk = rng.standard_normal((min(4096, len(flux) - start), flux.shape[1]), dtype=np.float32)
            chunk *= np.float32(1.0 / snr)
            chunk += flux[start : start + len(chunk)]
            noisy[start : start + len(chunk)] = chunk
        noisy.flush()
        del noisy
        cache.with_suffix(".tmp.npy").rename(cache)
    return np.load(cache, mmap_mode="r")


def batches(flux, labels, snr, batch_size=1024, prefix="B", per_pixel=False):
    """Grid batches of ``flux`` (already noisy where ``snr`` is given: :func:`noisy_grid`), with a
    1σ error of 1/snr at every pixel (stored once), or with ``per_pixel`` one that follows the
    flux as photon noise does (stored per pixel, as a survey's spectra are), or none."""
    from ml.synth.gridbuilder import GridBatch

    for start in range(0, len(flux), batch_size):
        index = np.arange(start, min(start + batch_size, len(flux)))
        chunk = np.asarray(flux[index])
        error = None
        if snr:
            error = np.sqrt(np.abs(chunk)) / np.float32(snr) if per_pixel else np.full_like(chunk, 1.0 / snr)
        yield GridBatch(designation=[f"{prefix}-{i}" for i in index], group=labels["group"][index],
                        ra=labels["ra"][index], dec=labels["dec"][index],
                        labels={k: v[index] for k, v in labels.items() if k not in ("group", "ra", "dec")},
                        flux=chunk, error=error, snr=snr)


def _forget(files) -> None:
    """Delete the stars (and so the spectra and images) these files brought."""
    from catalog.models import Image, Spectrum, Star

    names = [f.name for f in files]
    stars = set(Spectrum.objects.filter(source_file__in=names).values_list("star_id", flat=True)) | \
        set(Image.objects.filter(source_file__in=names).values_list("star_id", flat=True))
    Star.objects.filter(pk__in=stars).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=200)
    parser.add_argument("--fits", type=int, default=2000, help="FITS files to write and ingest (half APOGEE, half SDSS)")
    parser.add_argument("--table", type=Path, default=ROOT / "bench" / "results" / "ingest.txt")
    args = parser.parse_args()
    flux, labels, synth_rate = synthesised_grid(args.profiles)
    n = len(flux)
    rows = []
    with bench_database("doppel_bench_ingest"):
        from catalog import services
        from catalog.ingest.generate import write_bhb_files, write_grid_files
        from catalog.ingest.pool import read_file
        from ml.synth.gridbuilder import GridSpec
        from ml.synth.stellar import StellarSpectrumModel

        kinds = {None: "noiseless (error NULL)", False: "S/N 50, one error for every pixel",
                 True: "S/N 50, an error per pixel (as survey spectra)"}
        for snr, per_pixel, streams in ((None, None, 1), (None, None, 2), (50.0, False, 1), (50.0, False, 2),
                                        (50.0, True, 2)):
            grid = flux if snr is None else noisy_grid(flux, args.profiles, snr)
            started = time.perf_counter()
            loaded = services.grid_load(batches=batches(grid, labels, snr, prefix=f"{'NSP'[len(rows) // 2]}{streams}",
                                                        per_pixel=per_pixel),
                                        survey_code="apogee", streams=streams)
            elapsed = time.perf_counter() - started
            rows.append([f"grid COPY, {kinds[per_pixel]}, {streams} stream{'s' if streams > 1 else ''}",
                         f"{loaded:,} spectra", f"{elapsed:.1f} s", f"{loaded / elapsed:,.0f} spectra/s", "≥ 20,000 spectra/s"])
            print(rows[-1], flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            n_apogee = args.fits // 2
            spec = GridSpec(n_profiles=max(1, n_apogee // 210 + 1), seed=99)
            model = StellarSpectrumModel("apogee")
            write_grid_files(spec=spec, model=model, out_dir=Path(tmp) / "apogee")
            apogee_files = sorted((Path(tmp) / "apogee").glob("*.fits"))[:n_apogee]
            n_sdss = (args.fits - n_apogee) // 2
            write_bhb_files(out_dir=Path(tmp) / "sdss", n_bhb=n_sdss // 2, n_other=n_sdss - n_sdss // 2, seed=3)
            sdss_files = sorted((Path(tmp) / "sdss").glob("*.fits"))
            for label, files in (("FITS aspcapStar (APOGEE)", apogee_files), ("FITS spec + img (SDSS)", sdss_files)):
                started = time.perf_counter()
                for path in files:  # what a reader process does for one file: hash, parse, measure
                    read_file(path)
                elapsed = time.perf_counter() - started
                rows.append([f"{label}, read only (no database)", f"{len(files):,} files", f"{elapsed:.1f} s",
                             f"{len(files) / elapsed:,.0f} files/s", "(report)"])
                print(rows[-1], flush=True)
                for jobs in (1, 2):
                    started = time.perf_counter()
                    report = services.ingest_paths(paths=[str(f) for f in files], jobs=jobs)
                    elapsed = time.perf_counter() - started
                    assert report.count("ingested") == len(files), [o.reason for o in report.outcomes if o.status != "ingested"][:3]
                    rows.append([f"{label}, {'read here' if jobs == 1 else f'{jobs} reader processes'}", f"{len(files):,} files",
                                 f"{elapsed:.1f} s", f"{len(files) / elapsed:,.0f} files/s", "(report)"])
                    print(rows[-1], flush=True)
                    _forget(files)  # the same files again, into an empty catalog
    if synth_rate:
        rows.append(["synthesis (analytic model, CPU)", f"{n:,} spectra", "", f"{synth_rate:,.0f} spectra/s", "(report)"])
    text = print_table(f"bench/ingest.py — {n:,}-spectrum APOGEE-like grid, 7214 px, {os.cpu_count()} cores",
                       ["path", "size", "time", "rate", "target"], rows)
    args.table.write_text(text + "\n")


if __name__ == "__main__":
    main()
