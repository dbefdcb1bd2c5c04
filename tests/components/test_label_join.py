"""LabelJoin executor: labelled pool spectra join the training split, nothing else changes."""

import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.types import artifact_utils, standard_artifacts

from activespec.errors import ConfigError
from components.label_join import spec as c
from components.label_join.executor import Executor
from components.spectra_ingest.encoding import id_digest
from models import features

CLASSES = ["other", "emission", "double-peak"]


def _example(spectrum_id, rng, label=None):
    feature = {
        features.FLUX: tf.train.Feature(
            float_list=tf.train.FloatList(value=rng.uniform(-1, 1, 140).astype(np.float32))
        ),
        features.SPECTRUM_ID: tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[spectrum_id.encode()])
        ),
    }
    if label is not None:
        feature[features.LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _examples_artifact(uri, splits: dict[str, list[tf.train.Example]]):
    artifact = standard_artifacts.Examples()
    artifact.uri = str(uri)
    artifact.split_names = artifact_utils.encode_split_names(list(splits))
    for name, examples in splits.items():
        split_dir = os.path.join(uri, f"Split-{name}")
        os.makedirs(split_dir)
        options = tf.io.TFRecordOptions(compression_type="GZIP")
        with tf.io.TFRecordWriter(
            os.path.join(split_dir, "data_tfrecord-00000-of-00001.gz"), options
        ) as w:
            for ex in examples:
                w.write(ex.SerializeToString())
    return artifact


def _read(artifact, split):
    files = tf.io.gfile.glob(os.path.join(artifact.uri, f"Split-{split}", "*"))
    out = {}
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        ex = tf.train.Example.FromString(record.numpy())
        sid = ex.features.feature[features.SPECTRUM_ID].bytes_list.value[0].decode()
        labels = ex.features.feature[features.LABEL].int64_list.value
        out[sid] = labels[0] if labels else None
    return out


@pytest.fixture()
def artifacts(tmp_path):
    rng = np.random.default_rng(3)
    labelled = _examples_artifact(
        tmp_path / "labelled",
        {
            "train": [_example(f"ond-{i}", rng, i % 3) for i in range(8)],
            "eval": [_example(f"ond-e{i}", rng, i % 3) for i in range(3)],
            "test": [_example(f"ond-t{i}", rng, i % 3) for i in range(3)],
        },
    )
    pool = _examples_artifact(
        tmp_path / "pool", {"pool": [_example(f"lam-{i}", rng) for i in range(50)]}
    )
    output = standard_artifacts.Examples()
    output.uri = str(tmp_path / "joined")
    return labelled, pool, output


def _run(artifacts, labels_path=""):
    labelled, pool, output = artifacts
    Executor().Do(
        {c.LABELLED_EXAMPLES_KEY: [labelled], c.POOL_EXAMPLES_KEY: [pool]},
        {c.EXAMPLES_KEY: [output]},
        {
            c.LABELS_KEY: str(labels_path),
            c.CLASS_NAMES_KEY: '["other", "emission", "double-peak"]',
            c.TARGET_SPLIT_KEY: "train",
            c.POOL_SPLIT_KEY: "pool",
        },
    )
    return output


def test_labelled_pool_spectra_join_the_training_split_only(artifacts, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "spectrum_id,label\nlam-3,emission\nlam-7,double-peak\nlam-11,other\nghost-1,emission\n"
    )
    output = _run(artifacts, labels)
    train = _read(output, "train")
    assert len(train) == 8 + 3
    assert train["lam-3"] == 1 and train["lam-7"] == 2 and train["lam-11"] == 0
    assert train["ond-0"] == 0  # the labelled set passes through unchanged
    assert set(_read(output, "eval")) == {f"ond-e{i}" for i in range(3)}
    assert set(_read(output, "test")) == {f"ond-t{i}" for i in range(3)}
    assert output.get_int_custom_property("num_joined") == 3
    assert output.get_int_custom_property("num_unmatched") == 1
    assert "ghost-1" in output.get_string_custom_property("unmatched_sample")


def test_without_labels_the_labelled_set_passes_through(artifacts):
    output = _run(artifacts)
    assert len(_read(output, "train")) == 8
    assert output.get_int_custom_property("num_joined") == 0


def test_unknown_class_in_labels_fails_before_writing(artifacts, tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("spectrum_id,label\nlam-3,be-star\n")
    with pytest.raises(ConfigError, match="unknown class 'be-star'"):
        _run(artifacts, labels)
    assert not os.path.exists(os.path.join(artifacts[2].uri, "Split-train"))


def test_the_training_split_comes_out_in_one_order_whatever_the_input_order(tmp_path):
    rng = np.random.default_rng(5)
    labelled_train = [_example(f"ond-{i:02d}", rng, i % 3) for i in range(12)]
    pool = [_example(f"lam-{i:03d}", rng) for i in range(60)]
    labels = tmp_path / "labels.csv"
    labels.write_text("spectrum_id,label\n" + "".join(f"lam-{i:03d},other\n" for i in (4, 51, 17)))
    written = []
    for run, order in enumerate((rng.permutation(60), rng.permutation(60))):
        root = tmp_path / f"run{run}"
        labelled = _examples_artifact(
            root / "labelled",
            {
                "train": [labelled_train[i] for i in rng.permutation(12)],
                "eval": labelled_train[:2],
                "test": labelled_train[:2],
            },
        )
        pool_artifact = _examples_artifact(root / "pool", {"pool": [pool[i] for i in order]})
        output = standard_artifacts.Examples()
        output.uri = str(root / "joined")
        _run((labelled, pool_artifact, output), labels)
        files = sorted(tf.io.gfile.glob(os.path.join(output.uri, "Split-train", "*")))
        written.append([r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")])
    assert written[0] == written[1]
    ids = [
        tf.train.Example.FromString(r).features.feature[features.SPECTRUM_ID].bytes_list.value[0]
        for r in written[0]
    ]
    assert len(ids) == 15 and ids == sorted(ids, key=lambda i: id_digest(i.decode()))
