"""The model metadata (assets.extra/activespec_model.json): written at export, read by the
loader, carried through the Trainer's custom_config."""

import json
import logging
import shutil

import pytest

import activespec
from activespec import errors
from activespec.constants import DEFAULT_CLASSES
from activespec.preprocessing import PreprocessConfig
from models import export, serving, trainer_module


def _metadata_path(version_dir):
    return version_dir / export.ASSETS_EXTRA_DIR / export.METADATA_FILE


def test_export_records_classes_grid_preprocessing_and_version(serving_base, robust_base):
    metadata = json.loads(_metadata_path(serving_base / "1").read_text())
    assert metadata["class_names"] == list(DEFAULT_CLASSES)
    assert metadata["n_points"] == 140
    assert metadata["preprocessing"] == PreprocessConfig().to_dict()
    assert metadata["preprocessing_fingerprint"] == PreprocessConfig().fingerprint()
    assert metadata["activespec_version"] == activespec.__version__
    assert metadata["format_version"] == export.METADATA_FORMAT_VERSION
    robust = json.loads(_metadata_path(robust_base / "1").read_text())
    assert robust["preprocessing"]["scaling"] == "robust"
    assert robust["preprocessing_fingerprint"] != metadata["preprocessing_fingerprint"]


def test_loader_exposes_the_recorded_preprocessing(serving_base, robust_base):
    default = serving.load_model_dir(str(serving_base))
    assert default.preprocess_config == PreprocessConfig()
    robust = serving.load_model_dir(str(robust_base))
    assert robust.preprocess_config == PreprocessConfig(scaling="robust")
    assert robust.metadata["class_names"] == list(robust.class_names)


def _copy_model(serving_base, tmp_path):
    target = tmp_path / "serving_model" / "7"
    shutil.copytree(serving_base / "1", target)
    return target


def test_model_without_metadata_gets_defaults_and_a_warning(serving_base, tmp_path, caplog):
    version_dir = _copy_model(serving_base, tmp_path)
    shutil.rmtree(version_dir / export.ASSETS_EXTRA_DIR)
    with caplog.at_level(logging.WARNING, logger="models.serving"):
        model = serving.load_model_dir(str(version_dir.parent))
    assert model.preprocess_config == PreprocessConfig()
    assert model.metadata == {}
    assert any("default preprocessing" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: "{not json", "not valid JSON"),
        (lambda m: json.dumps([m]), "not a JSON object"),
        (lambda m: json.dumps({**m, "class_names": ["a", "b", "c"]}), "lists classes"),
        (lambda m: json.dumps({k: v for k, v in m.items() if k != "preprocessing"}), "no 'pre"),
        (
            lambda m: json.dumps({**m, "preprocessing": {"scaling": "zscore"}}),
            "invalid preprocessing settings",
        ),
        (
            lambda m: json.dumps({**m, "preprocessing": {"n_points": 150}}),
            "150-point preprocessing",
        ),
    ],
    ids=["bad-json", "not-object", "classes", "no-preprocessing", "bad-scaling", "n-points"],
)
def test_bad_metadata_is_a_typed_load_error(serving_base, tmp_path, edit, message):
    version_dir = _copy_model(serving_base, tmp_path)
    path = _metadata_path(version_dir)
    path.write_text(edit(json.loads(path.read_text())))
    with pytest.raises(serving.ModelLoadError, match=message):
        serving.load_model_dir(str(version_dir))


def test_export_refuses_preprocessing_that_does_not_fit(small_model, tmp_path):
    target = tmp_path / "m"
    with pytest.raises(errors.ConfigError, match="150-point vectors"):
        export.export_serving_model(
            small_model, str(target), class_names=DEFAULT_CLASSES, preprocessing={"n_points": 150}
        )
    with pytest.raises(errors.ConfigError, match="scaling"):
        export.export_serving_model(
            small_model, str(target), class_names=DEFAULT_CLASSES, preprocessing={"scaling": "z"}
        )
    assert not target.exists()  # refused before anything was written


def test_trainer_custom_config_carries_the_preprocessing():
    parse = trainer_module.TrainerConfig.from_custom_config
    assert parse(None).preprocessing == PreprocessConfig()
    robust = {"scaling": "robust", "max_bad_fraction": 0.1}
    assert parse({"preprocessing": robust}).preprocessing == PreprocessConfig(**robust)
    with pytest.raises(errors.ConfigError, match="unknown preprocessing option"):
        parse({"preprocessing": {"scale": "robust"}})
    with pytest.raises(errors.ConfigError, match="n_points=140"):
        parse({"preprocessing": {"n_points": 150}})
