"""Every consumer makes the same vector of a spectrum (issue 12, bug 2).

Pool ingestion (with the parameters the pipeline gives it), ``activespec score`` (the
pushed model's settings) and the labelling page (the settings of the model that scored the
round, not the TOML given to ``label serve``) must agree for LAMOST LRS, LAMOST MRS and
Ondřejov spectra, with and without the published ``sigma_pixels``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from activespec.constants import DEFAULT_CLASSES
from activespec.io import read_spectrum
from activespec.labelling import create_server
from activespec.model_metadata import ASSETS_EXTRA_DIR, METADATA_FILE, TFX_SERVING_SUBDIR
from activespec.preprocessing import PreprocessConfig
from activespec_cli.score_cmd import score_files
from components.spectra_ingest.params import IngestParams
from components.spectra_ingest.transforms import ReadAndPreprocess
from models import features
from pipeline.configs import config_from_dict
from pipeline.pipeline import create_pipeline
from tests.labels.round_files import sampler_row, write_round

FILES = (
    "lamost/spec-55862-B6212_sp06-018.fits",  # LRS, R 1,800: never degraded
    "lamost/med-58408-TD230151N343645T01_sp01-015.fits",  # MRS, R 7,500
    "ondrejov/oe270005.fits",  # R 13,000
)
#: What ``label serve --config`` would read; a model is recorded, so it must be ignored.
OTHER_TOML_SETTINGS = {"scaling": "robust", "max_bad_fraction": 0.5}


class FakeModel:
    """What ``activespec score`` needs of a loaded model: its settings and predict_flux."""

    class_names = tuple(DEFAULT_CLASSES)

    def __init__(self, preprocess_config):
        self.preprocess_config = preprocess_config
        self.vectors = []

    def predict_flux(self, batch):
        self.vectors.extend(np.asarray(batch))
        return np.full((len(batch), len(self.class_names)), 1.0 / len(self.class_names))


def _pool_ingestion(tmp_path, raw_preprocessing, path) -> np.ndarray:
    config = config_from_dict({"preprocessing": raw_preprocessing}, base_dir=tmp_path)
    pipeline = create_pipeline(
        config=config,
        pipeline_root=str(tmp_path / "root"),
        serving_model_dir=str(tmp_path / "serving"),
    )
    (node,) = [c for c in pipeline.components if c.id == "PoolIngest"]
    params = IngestParams.from_exec_properties(node.exec_properties)
    read = ReadAndPreprocess(params.preprocessing, params.degrade_resolution, params.labelled)
    read.setup()
    (output,) = read._ingest(str(path), None)
    _, (_, serialized) = output
    example = tf.train.Example.FromString(serialized)
    return np.array(example.features.feature[features.FLUX].float_list.value, np.float32)


def _round_scored_by(workdir, model_config: PreprocessConfig, paths):
    """Round 0 of a work directory whose summary.json names the model that scored it."""
    model_uri = workdir / "tfx" / "Trainer" / "model" / "7"
    assets = model_uri / TFX_SERVING_SUBDIR / ASSETS_EXTRA_DIR
    assets.mkdir(parents=True)
    metadata = {"class_names": list(DEFAULT_CLASSES), "preprocessing": model_config.to_dict()}
    (assets / METADATA_FILE).write_text(json.dumps(metadata))
    rows = [
        sampler_row(
            read_spectrum(path).meta.spectrum_id,
            role="query",
            rank=rank,
            probabilities=[0.4, 0.3, 0.3],
            source=str(path),
        )
        for rank, path in enumerate(paths, start=1)
    ]
    folder = write_round(workdir, 0, rows, [], class_names=DEFAULT_CLASSES)
    summary = json.loads((folder / "summary.json").read_text())
    summary["model_uri"] = str(model_uri)
    (folder / "summary.json").write_text(json.dumps(summary))
    return [row["spectrum_id"] for row in rows]


@pytest.mark.parametrize("raw_preprocessing", [{}, {"sigma_pixels": 7.0}], ids=["R", "sigma7"])
def test_ingestion_scoring_and_the_page_make_the_same_vector(tmp_path, real_dir, raw_preprocessing):
    paths = [real_dir / name for name in FILES]
    model_config = PreprocessConfig.from_dict(raw_preprocessing)  # as the Trainer records it

    ingested = [_pool_ingestion(tmp_path, raw_preprocessing, path) for path in paths]

    model = FakeModel(model_config)
    records = score_files(model, [str(p) for p in paths])
    assert [r["ok"] for r in records] == [True, True, True]
    assert [r["degraded"] for r in records] == [False, True, True]

    workdir = tmp_path / "work"
    ids = _round_scored_by(workdir, model_config, paths)
    server = create_server(workdir, port=0, preprocess_config=OTHER_TOML_SETTINGS)
    try:
        assert server.app.preprocess_config == model_config
        windows = [server.app.spectrum(spectrum_id)["window"] for spectrum_id in ids]
    finally:
        server.server_close()

    for name, from_ingestion, scored, window in zip(
        FILES, ingested, model.vectors, windows, strict=True
    ):
        np.testing.assert_array_equal(scored, from_ingestion, err_msg=name)
        np.testing.assert_allclose(window["flux"], from_ingestion, rtol=1e-5, atol=1e-6)
    assert [w["sigma_pixels"] > 0 for w in windows] == [False, True, True]


def test_the_page_falls_back_to_the_given_settings_only_without_a_model(tmp_path, real_dir):
    path = real_dir / FILES[0]
    row = sampler_row(
        read_spectrum(path).meta.spectrum_id,
        role="query",
        rank=1,
        probabilities=[0.4, 0.3, 0.3],
        source=str(path),
    )
    write_round(tmp_path, 0, [row], [])  # summary.json without a model
    server = create_server(tmp_path, port=0, preprocess_config=OTHER_TOML_SETTINGS)
    try:
        assert server.app.preprocess_config == PreprocessConfig(**OTHER_TOML_SETTINGS)
        assert server.app.model_metadata_path is None
    finally:
        server.server_close()
