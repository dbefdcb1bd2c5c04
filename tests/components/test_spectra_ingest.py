"""SpectraIngest executor on real LAMOST / Ondřejov files plus broken ones."""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
from apache_beam.options.pipeline_options import PipelineOptions
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import artifact_utils, standard_artifacts

from activespec.constants import DEFAULT_CLASSES, GRID_POINTS
from activespec.errors import ConfigError, RejectedSpectrum
from activespec.io import read_spectrum
from activespec.preprocessing import PreprocessConfig, preprocess
from components.artifact_types import RejectedFiles
from components.spectra_ingest import SpectraIngest, count_inputs, fingerprint_inputs
from components.spectra_ingest.encoding import serialize_example, split_index
from components.spectra_ingest.executor import Executor
from components.spectra_ingest.params import make_params
from models import features
from tests.isolation import loaded_by_import

GOOD_LAMOST = (
    "lamost/spec-55862-B6212_sp06-003.fits",  # DR1 image
    "lamost/spec-55916-B5591606_sp01-001.fits",  # DR2 image with wavelength row
    "lamost/spec-57287-KP193637N444141V03_sp10-161.fits.gz",  # DR6, gzipped
    "lamost/med-58408-TD230151N343645T01_sp01-015.fits",  # MRS binary tables
    "lamost/spec-56257-GAC089N38V2_sp01-008.fits",
)
ZERO_FLUX = "lamost/spec-55862-B6212_sp06-145.fits"
ONDREJOV = "ondrejov/oe270005.fits"


def _params(**overrides):
    kwargs = dict(
        file_patterns=None,
        file_list=None,
        labels=None,
        class_names=DEFAULT_CLASSES,
        preprocessing=None,
        degrade_resolution=False,
        splits=None,
        input_fingerprint="",
    )
    kwargs.update(overrides)
    return make_params(**kwargs)


def _run(out_dir, params, context=None):
    examples = standard_artifacts.Examples()
    examples.uri = os.path.join(out_dir, "examples")
    rejections = RejectedFiles()
    rejections.uri = os.path.join(out_dir, "rejections")
    Executor(context).Do(
        {}, {"examples": [examples], "rejections": [rejections]}, params.to_exec_properties()
    )
    return examples, rejections


def _read_split(examples, split):
    """{spectrum_id: parsed features} of one split, from the gzipped TFRecords."""
    split_dir = artifact_utils.get_split_uri([examples], split)
    files = sorted(glob.glob(os.path.join(split_dir, "data_tfrecord-*.gz")))
    assert files, f"no TFRecord files in {split_dir}"
    parsed = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        row = {
            key: feature[key].bytes_list.value[0].decode()
            for key in (features.SPECTRUM_ID, features.DESIGNATION, features.SURVEY)
            + (features.LAYOUT, features.SOURCE)
        }
        for key in (features.RA, features.DEC, features.SNR):
            row[key] = feature[key].float_list.value[0]
        row[features.FLUX] = np.array(feature[features.FLUX].float_list.value, dtype=np.float32)
        if features.LABEL in feature:
            row[features.LABEL] = feature[features.LABEL].int64_list.value[0]
        assert row[features.SPECTRUM_ID] not in parsed
        parsed[row[features.SPECTRUM_ID]] = row
    return parsed


def _rejected_rows(rejections):
    with open(os.path.join(rejections.uri, "rejected.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {os.path.basename(row["path"]): row for row in rows}


def _summary(rejections):
    with open(os.path.join(rejections.uri, "summary.json")) as handle:
        return json.load(handle)


def _rejection_code(path):
    with pytest.raises(RejectedSpectrum) as info:
        preprocess(read_spectrum(path), PreprocessConfig())
    return info.value.code


@pytest.fixture(scope="module")
def pool_inputs(tmp_path_factory, real_dir):
    """Real spectra, the zero-flux one, a duplicate, and two broken files."""
    folder = tmp_path_factory.mktemp("pool_in")
    for name in (*GOOD_LAMOST, ZERO_FLUX):
        shutil.copy(real_dir / name, folder)
    original = (real_dir / GOOD_LAMOST[0]).read_bytes()
    # Same spectrum under a later-sorting name: one copy must be rejected as a duplicate.
    (folder / "zz-copy-of-003.fits").write_bytes(original)
    (folder / "truncated.fits").write_bytes(original[: len(original) // 3])
    (folder / "random.fits").write_bytes(np.random.default_rng(7).bytes(6000))
    return folder


@pytest.fixture(scope="module")
def pool_run(pool_inputs, tmp_path_factory):
    params = _params(
        file_patterns=[str(pool_inputs / "*.fits"), str(pool_inputs / "*.fits.gz")],
        input_fingerprint="test",
    )
    return _run(str(tmp_path_factory.mktemp("pool_out")), params)


def test_pool_examples_are_the_readers_spectra_preprocessed(pool_run, real_dir):
    examples, _ = pool_run
    parsed = _read_split(examples, "pool")
    expected = {}
    for name in GOOD_LAMOST:
        spectrum = read_spectrum(real_dir / name)
        expected[spectrum.meta.spectrum_id] = spectrum
    assert set(parsed) == set(expected)
    for spectrum_id, row in parsed.items():
        spectrum = expected[spectrum_id]
        assert row[features.FLUX].shape == (GRID_POINTS,)
        assert row[features.FLUX].min() >= -1.0 and row[features.FLUX].max() <= 1.0
        np.testing.assert_allclose(
            row[features.FLUX], preprocess(spectrum, PreprocessConfig()), atol=1e-6
        )
        assert row[features.DESIGNATION] == (spectrum.meta.designation or "")
        assert row[features.SURVEY] == spectrum.meta.survey
        assert row[features.LAYOUT] == spectrum.meta.layout
        assert row[features.RA] == pytest.approx(spectrum.meta.ra, abs=1e-4)
        assert row[features.SNR] == pytest.approx(spectrum.meta.snr, rel=1e-6)
        assert os.path.isabs(row[features.SOURCE])
        assert features.LABEL not in row
    # The duplicate keeps the lexicographically smallest path.
    original_id = read_spectrum(real_dir / GOOD_LAMOST[0]).meta.spectrum_id
    assert parsed[original_id][features.SOURCE].endswith("spec-55862-B6212_sp06-003.fits")


def test_pool_rejections_list_exactly_the_bad_files(pool_run, real_dir):
    _, rejections = pool_run
    rows = _rejected_rows(rejections)
    zero_flux_code = _rejection_code(real_dir / ZERO_FLUX)
    assert {name: row["code"] for name, row in rows.items()} == {
        "truncated.fits": "truncated",
        "random.fits": "not-fits",
        os.path.basename(ZERO_FLUX): zero_flux_code,
        "zz-copy-of-003.fits": "duplicate-id",
    }
    assert zero_flux_code != "internal-error"
    assert all(row["reason"] and "\n" not in row["reason"] for row in rows.values())
    assert "spec-55862-B6212_sp06-003.fits" in rows["zz-copy-of-003.fits"]["reason"]

    summary = _summary(rejections)
    assert summary["num_files"] == len(GOOD_LAMOST) + 4
    assert summary["num_ingested"] == len(GOOD_LAMOST)
    assert summary["num_examples"] == {"pool": len(GOOD_LAMOST)}
    assert summary["rejections_by_code"] == {
        "duplicate-id": 1,
        "not-fits": 1,
        "truncated": 1,
        zero_flux_code: 1,
    }
    assert summary["input_fingerprint"] == "test"
    assert "labels" not in summary
    assert not os.path.exists(os.path.join(rejections.uri, "_counts"))


def test_pool_artifact_properties(pool_run):
    examples, rejections = pool_run
    assert artifact_utils.decode_split_names(examples.split_names) == ["pool"]
    assert examples.get_int_custom_property("num_examples_pool") == len(GOOD_LAMOST)
    assert examples.get_string_custom_property("payload_format") == "FORMAT_TF_EXAMPLE"
    for artifact in (examples, rejections):
        assert artifact.get_int_custom_property("num_ingested") == len(GOOD_LAMOST)
        assert artifact.get_int_custom_property("num_rejected") == 4
        by_code = json.loads(artifact.get_string_custom_property("rejections_by_code"))
        assert sum(by_code.values()) == 4 and by_code["truncated"] == 1


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory, real_dir):
    folder = tmp_path_factory.mktemp("labelled_in")
    names = (ONDREJOV, *GOOD_LAMOST[:3])
    for name in names:
        shutil.copy(real_dir / name, folder)
    ids = [read_spectrum(real_dir / name).meta.spectrum_id for name in names]
    labels = folder / "labels.csv"
    # The last LAMOST file has no row; "ghost-1" has a row but no file.
    labels.write_text(
        "spectrum_id,label,comment\n"
        f"{ids[0]},other,HD 208905\n"
        f"{ids[1]},emission,\n"
        f"{ids[2]},double-peak,\n"
        "ghost-1,emission,not in the folder\n",
        encoding="utf-8",
    )
    params = _params(
        file_patterns=[str(folder / "*.fits*")],
        labels=str(labels),
        degrade_resolution=True,
        splits={"train": 3, "eval": 1, "test": 1},
    )
    examples, rejections = _run(str(tmp_path_factory.mktemp("labelled_out")), params)
    return examples, rejections, ids


def test_labelled_examples_carry_labels_and_stable_splits(labelled_run, real_dir):
    examples, _, ids = labelled_run
    split_names = artifact_utils.decode_split_names(examples.split_names)
    assert split_names == ["eval", "test", "train"]
    by_split = {split: _read_split(examples, split) for split in split_names}
    seen = {}
    for split, rows in by_split.items():
        for spectrum_id, row in rows.items():
            assert split_names[split_index(spectrum_id, (1, 2, 5))] == split
            seen[spectrum_id] = row
    assert set(seen) == set(ids[:3])
    assert [seen[i][features.LABEL] for i in ids[:3]] == [0, 1, 2]
    for split in split_names:
        assert examples.get_int_custom_property(f"num_examples_{split}") == len(by_split[split])

    ondrejov = seen[ids[0]]
    spectrum = read_spectrum(real_dir / ONDREJOV)
    degraded = preprocess(spectrum, PreprocessConfig(), degrade=True)
    np.testing.assert_allclose(ondrejov[features.FLUX], degraded, atol=1e-6)
    # Degradation visibly smooths the high-resolution spectrum.
    assert np.abs(degraded - preprocess(spectrum, PreprocessConfig())).max() > 1e-2
    assert np.isnan(ondrejov[features.SNR])
    assert ondrejov[features.SURVEY] == "Ondrejov"


def test_labelled_rejections_and_missing_label_ids(labelled_run):
    _, rejections, ids = labelled_run
    rows = _rejected_rows(rejections)
    assert {name: row["code"] for name, row in rows.items()} == {
        os.path.basename(GOOD_LAMOST[2]): "no-label"
    }
    summary = _summary(rejections)
    assert summary["labels"] == {
        "num_labels": 4,
        "ids_without_file": {"count": 1, "first": ["ghost-1"]},
    }
    assert summary["num_ingested"] == 3 and summary["num_rejected"] == 1


def test_unknown_class_in_labels_fails_before_the_pipeline(tmp_path, real_dir):
    shutil.copy(real_dir / ONDREJOV, tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("spectrum_id,label\noe270005,other\nx,be-star\n", encoding="utf-8")
    params = _params(file_patterns=[str(tmp_path / "*.fits")], labels=str(labels))
    with pytest.raises(ConfigError, match=r"labels\.csv:3: unknown class 'be-star'"):
        _run(str(tmp_path / "out"), params)
    assert not (tmp_path / "out").exists()


def test_file_list_with_missing_path_and_comments(tmp_path, real_dir):
    listing = tmp_path / "files.txt"
    present = real_dir / GOOD_LAMOST[1]
    listing.write_text(
        f"# pool subset\n{present}\n\n{tmp_path / 'gone.fits'}\n{present}\n", encoding="utf-8"
    )
    examples, rejections = _run(str(tmp_path / "out"), _params(file_list=str(listing)))
    assert set(_read_split(examples, "pool")) == {read_spectrum(present).meta.spectrum_id}
    rows = _rejected_rows(rejections)
    assert {name: row["code"] for name, row in rows.items()} == {"gone.fits": "io-error"}


def test_no_matching_files_is_a_config_error(tmp_path):
    params = _params(file_patterns=[str(tmp_path / "*.fits")])
    with pytest.raises(ConfigError, match="no input files matched"):
        _run(str(tmp_path / "out"), params)


@pytest.mark.slow
def test_multi_processing_runner_gives_the_same_examples(pool_inputs, pool_run, tmp_path):
    def make_pipeline():
        options = PipelineOptions(
            ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
        )
        return beam.Pipeline(options=options)

    params = _params(
        file_patterns=[str(pool_inputs / "*.fits"), str(pool_inputs / "*.fits.gz")],
        input_fingerprint="test",
    )
    context = BaseBeamExecutor.Context(make_beam_pipeline_fn=make_pipeline)
    examples, rejections = _run(str(tmp_path), params, context)
    in_memory = _read_split(pool_run[0], "pool")
    multi = _read_split(examples, "pool")
    assert set(multi) == set(in_memory)
    for spectrum_id, row in multi.items():
        np.testing.assert_array_equal(row[features.FLUX], in_memory[spectrum_id][features.FLUX])
    assert _rejected_rows(rejections).keys() == _rejected_rows(pool_run[1]).keys()


def test_fingerprint_follows_the_files(tmp_path, real_dir):
    for name in GOOD_LAMOST[:2]:
        shutil.copy(real_dir / name, tmp_path)
    patterns = [str(tmp_path / "*.fits")]
    first = fingerprint_inputs(patterns)
    assert first.startswith("files:2,")
    assert fingerprint_inputs(patterns) == first
    # Order of patterns (and of listing) does not matter.
    both = [str(tmp_path / "spec-55862*.fits"), str(tmp_path / "spec-55916*.fits")]
    assert fingerprint_inputs(both) == fingerprint_inputs(both[::-1])

    shutil.copy(real_dir / GOOD_LAMOST[4], tmp_path)
    added = fingerprint_inputs(patterns)
    assert added.startswith("files:3,") and added != first
    touched = tmp_path / os.path.basename(GOOD_LAMOST[4])
    stat = touched.stat()
    os.utime(touched, (stat.st_atime, stat.st_mtime + 100))
    assert fingerprint_inputs(patterns) != added

    labels = tmp_path / "labels.csv"
    labels.write_text("spectrum_id,label\na,other\n")
    with_labels = fingerprint_inputs(patterns, extra_files=[str(labels)])
    labels.write_text("spectrum_id,label\na,emission\n")
    assert fingerprint_inputs(patterns, extra_files=[str(labels)]) != with_labels


def test_inputs_are_counted_as_the_ingestion_expands_them(tmp_path, real_dir):
    for name in GOOD_LAMOST[:3]:
        shutil.copy(real_dir / name, tmp_path)
    patterns = [str(tmp_path / "*.fits*")]
    assert count_inputs(patterns) == 3
    listing = tmp_path / "files.txt"
    listing.write_text("# spectra\n" + "".join(f"{tmp_path / n}\n\n" for n in "abcd"))
    assert count_inputs(patterns, str(listing)) == 7  # comments and blank lines skipped
    assert count_inputs([], str(listing)) == 4
    assert count_inputs(patterns, str(listing), stop_at=5) == 5
    with pytest.raises(ConfigError, match="missing.txt"):
        count_inputs([], str(tmp_path / "missing.txt"))


def test_component_exec_properties_are_a_stable_cache_key(tmp_path):
    def build():
        return SpectraIngest(
            file_patterns=[str(tmp_path / "*.fits")],
            preprocessing={"max_bad_fraction": 0.3},
            input_fingerprint="files:1",
        )

    first, second = build(), build()
    assert first.exec_properties == second.exec_properties
    props = first.exec_properties
    assert json.loads(props["splits"]) == {"pool": 1}
    # Defaults of the preprocessing are spelled out, so a change of defaults re-ingests.
    assert json.loads(props["preprocessing"]) == {
        **PreprocessConfig().to_dict(),
        "max_bad_fraction": 0.3,
    }
    labelled = SpectraIngest(
        file_patterns=["x/*.fits"], labels="labels.csv", degrade_resolution=True
    )
    # The labelled set's default splits are the configuration's: train, eval and the
    # test split the Evaluator blesses on.
    assert json.loads(labelled.exec_properties["splits"]) == {"train": 16, "eval": 2, "test": 2}
    assert set(labelled.outputs) == {"examples", "rejections"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "give file_patterns"),
        ({"file_patterns": ["a/*.fits"], "splits": {"Split/1": 1}}, "split name"),
        ({"file_patterns": ["a/*.fits"], "splits": {"train": 0}}, "positive integer"),
        ({"file_patterns": ["a/*.fits"], "class_names": ["only"]}, "two distinct"),
        ({"file_patterns": ["a/*.fits"], "preprocessing": {"scaling": "log"}}, "scaling"),
    ],
)
def test_component_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SpectraIngest(**kwargs)


def test_sdss_and_desi_files_are_ingested(tmp_path):
    from activespec.io.desi import split_desi_file
    from tests.io.corpus import write_desi_coadd, write_gzip_copy, write_sdss_spec

    folder = tmp_path / "in"
    folder.mkdir()
    sdss = write_sdss_spec(tmp_path / "spec-7512-56777-0396.fits")
    write_gzip_copy(folder / "spec-7512-56777-0396.fits.gz", sdss)
    coadd = write_desi_coadd(folder / "coadd-main-dark-38863.fits")
    singles = split_desi_file(coadd, folder)
    params = _params(file_patterns=[str(folder / "*.fits*")], degrade_resolution=True)
    examples, rejections = _run(str(tmp_path / "out"), params)

    parsed = _read_split(examples, "pool")
    expected = {s.meta.spectrum_id: s for s in map(read_spectrum, (sdss, *singles))}
    assert set(parsed) == set(expected)
    assert set(expected) == {"sdss-7512-56777-0396"} | {
        f"desi-main-dark-{path.stem.rsplit('-', 1)[1]}" for path in singles
    }
    for spectrum_id, spectrum in expected.items():
        row = parsed[spectrum_id]
        assert row[features.SURVEY] == spectrum.meta.survey
        assert row[features.LAYOUT] == spectrum.meta.layout
        degraded = preprocess(spectrum, PreprocessConfig(), degrade=True)
        np.testing.assert_allclose(row[features.FLUX], degraded, atol=1e-6)
    # The coadd of three spectra is one rejection; its split-off spectra are ingested.
    rows = _rejected_rows(rejections)
    assert {name: row["code"] for name, row in rows.items()} == {
        "coadd-main-dark-38863.fits": "multi-spectrum"
    }


def _tf_example(spectrum, flux, source, label=None) -> tf.train.Example:
    """The reference encoding, built with TensorFlow's own ``tf.train.Example``."""

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))

    def text(value):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))

    meta = spectrum.meta
    nan = float("nan")
    feature = {
        features.FLUX: floats(np.asarray(flux, dtype=np.float32)),
        features.SPECTRUM_ID: text(meta.spectrum_id),
        features.DESIGNATION: text(meta.designation or ""),
        features.RA: floats([nan if meta.ra is None else meta.ra]),
        features.DEC: floats([nan if meta.dec is None else meta.dec]),
        features.SNR: floats([nan if meta.snr is None else meta.snr]),
        features.SURVEY: text(meta.survey),
        features.LAYOUT: text(meta.layout),
        features.SOURCE: text(source),
    }
    if label is not None:
        feature[features.LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


@pytest.mark.parametrize("name", [*GOOD_LAMOST, ONDREJOV])
@pytest.mark.parametrize("label", [None, 0, 2, 300, 2**40, -1])
def test_serialized_examples_equal_tensorflows(real_dir, name, label):
    spectrum = read_spectrum(real_dir / name)
    flux = preprocess(spectrum, PreprocessConfig(), degrade=name == ONDREJOV)
    source = f"gs://bucket/é/{name}"
    ours = serialize_example(spectrum, flux, source=source, label=label)
    reference = _tf_example(spectrum, flux, source, label)
    assert ours == reference.SerializeToString(deterministic=True)
    parsed = tf.train.Example.FromString(ours).features.feature
    np.testing.assert_array_equal(parsed[features.FLUX].float_list.value, flux.astype(np.float32))


def test_serialized_examples_keep_nan_metadata_and_empty_designation(real_dir):
    spectrum = read_spectrum(real_dir / ONDREJOV)
    flux = preprocess(spectrum, PreprocessConfig(), degrade=True)
    assert spectrum.meta.snr is None  # stored as NaN
    ours = serialize_example(spectrum, flux, source="x.fits")
    assert ours == _tf_example(spectrum, flux, "x.fits").SerializeToString(deterministic=True)
    parsed = tf.io.parse_single_example(
        ours, {features.SNR: tf.io.FixedLenFeature([1], tf.float32)}
    )
    assert np.isnan(parsed[features.SNR].numpy()[0])


def test_ingestion_workers_import_neither_tensorflow_nor_tfx():
    # What a Beam worker imports to unpickle the ingestion transforms.
    heavy = {"tensorflow", "tfx", "tensorflow_model_analysis"}
    assert loaded_by_import(["components.spectra_ingest.transforms"], heavy) == set()
