"""AppTest of the home page against the real checkpoint and the real test images."""

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT, shown, vega_charts

APP = str(PROJECT / "dashboard.py")


@pytest.fixture
def app(cifar_root, monkeypatch):
    monkeypatch.setenv("CIFAR10_ROOT", str(cifar_root))
    return AppTest.from_file(APP, default_timeout=180)


def _markdown(at) -> str:
    """The page's Markdown and its subheadings (where the current image is named)."""
    return "\n".join(m.value for m in [*at.markdown, *at.subheader])


def _captions(at) -> list[str]:
    return [c for el in at.get("image") for c in el.captions if c]


def test_home_renders_the_model_card(app, reference_predictions, test_split):
    at = app.run()
    assert not at.exception
    top1 = float((reference_predictions.predicted == test_split.labels).mean())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy (top-1)"] == f"{top1:.2%}"
    assert metrics["Parameters"] == "310,250"
    table = _markdown(at)
    assert "| block3.conv3 | Conv2d 1×1, 128→128 | 1×128×8×8 | 16,512 |" in table
    assert "| **total** |  |  | 310,250 |" in table
    assert "Current image: test #0" in _markdown(at)


def test_home_charts_show_the_real_numbers(app, checkpoint, reference_predictions, test_split):
    """Per-class accuracy, the training curves and the confusion matrix, as Vega-Lite charts (no
    Plotly on the home page: its 4.7 MB bundle held the first render back), with the real data."""
    at = app.run()
    assert not at.exception
    assert not at.get("plotly_chart")
    pred = reference_predictions.predicted
    classes = checkpoint.classes
    per_class, loss, acc, confusion = vega_charts(at)
    for row in per_class[1]:
        k = classes.index(row["class"])
        assert row["accuracy"] == pytest.approx(float((pred[test_split.labels == k] == k).mean()))
    # Two different measurements, labelled as such (issue 11): not one "loss" for both.
    assert {r["split"] for r in loss[1]} == {
        "training: label smoothing 0.1,\naugmented batches,\ntrain mode, epoch mean",
        "test: plain cross-entropy,\neval mode, after the epoch"}
    assert len(loss[1]) == len(acc[1]) == 2 * 35
    cells = {(r["true"], r["predicted"]): r["images"] for r in confusion[1]}
    assert len(cells) == 100 and sum(cells.values()) == len(test_split.labels)
    assert cells[("cat", "dog")] == int(np.sum((test_split.labels == 3) & (pred == 5)))
    assert confusion[0]["layer"][0]["params"][0]["name"] == "cell"


def test_confusion_pair_lists_exactly_those_images(app, reference_predictions, test_split):
    at = app.run()
    at.selectbox(key="home_true").set_value("dog")
    at.selectbox(key="home_pred").set_value("cat").run()
    assert not at.exception
    pred = reference_predictions.predicted
    expected = int(np.sum((test_split.labels == 5) & (pred == 3)))
    assert f"**{expected:,} images** match" in _markdown(at)
    captions = _captions(at)
    thumbs = [c for c in captions if "→" in c]
    assert thumbs and all(" dog → cat " in c for c in thumbs)


def test_filters_change_what_is_listed(app):
    at = app.run()
    before = _captions(at)
    at.radio(key="home_correct").set_value("incorrect").run()
    after = _captions(at)
    assert not at.exception and before != after
    assert all(c.endswith("✗") for c in after if "→" in c)


def test_show_button_sets_the_current_image_and_url(app):
    at = app.run()
    at.selectbox(key="home_true").set_value("ship").run()
    thumbs = [c for c in _captions(at) if "→" in c]
    first = int(re.match(r"#(\d+)", thumbs[0]).group(1))
    at.button(key=f"home_pick_{first}").click().run()
    assert not at.exception
    assert f"Current image: test #{first}" in _markdown(at)
    assert at.query_params["image"] == [str(first)] or at.query_params["image"] == str(first)


def test_url_image_round_trip(app):
    app.query_params["image"] = "1234"
    at = app.run()
    assert not at.exception
    assert "Current image: test #1234" in _markdown(at)
    assert at.number_input(key="image_picker").value == 1234


@pytest.mark.parametrize("bad", ["-1", "abc", "10000", "1" * 200, ""])
def test_bad_url_image_is_ignored_with_a_notice(app, bad):
    app.query_params["image"] = bad
    at = app.run()
    assert not at.exception
    assert any("Ignored `image=" in w.value for w in at.warning)
    assert "Current image: test #0" in _markdown(at)


@pytest.mark.parametrize("page", ["dashboard.py", "pages/2_Semantic_map.py"])
def test_missing_checkpoint_or_data_is_explained_in_the_page(page, tmp_path, monkeypatch, cifar_root):
    monkeypatch.setenv("CIFAR10_ROOT", str(cifar_root))
    monkeypatch.setenv("CIFAR10_CHECKPOINT", str(tmp_path / "missing.pt"))
    at = AppTest.from_file(str(PROJECT / page), default_timeout=180).run()
    assert not at.exception
    assert any("could not be loaded" in e.value and "missing.pt" in shown(e.value) for e in at.error)
    monkeypatch.delenv("CIFAR10_CHECKPOINT")
    monkeypatch.setenv("CIFAR10_ROOT", str(tmp_path / "nowhere"))
    at = AppTest.from_file(str(PROJECT / page), default_timeout=180).run()
    assert not at.exception and not at.error  # no data set at all: the download is offered
    assert [t.value for t in at.title] == ["CIFAR-10 is not on this machine yet"]
    assert at.button(key="download_cifar10")
    assert "CIFAR-10 data set not found" in shown(at.caption[0].value)
    assert "CIFAR10_ROOT" in "\n".join(m.value for m in at.markdown)


def test_curves_and_note_of_the_committed_checkpoint(app):
    at = app.run()
    assert not at.exception
    notes = [c.value for c in at.caption if "validation split" in c.value]
    assert len(notes) == 1 and notes[0].startswith("This checkpoint was trained before the validation split")
    _, loss, _, _ = vega_charts(at)
    assert "test: plain cross-entropy,\neval mode, after the epoch" in {r["split"] for r in loss[1]}


def test_a_checkpoint_trained_with_a_validation_split(page_env, frozen_checkpoint):
    """The page reads the new CSV columns (val_*) and says the epoch was chosen on validation."""
    from model.card import history_path
    from model.checkpoint import save_checkpoint

    meta = {**frozen_checkpoint.meta, "epochs": 2, "epoch_selected": 2, "test_top1": 0.875,
            "validation": {"images": 5000, "seed": 0}}
    save_checkpoint(page_env, frozen_checkpoint.model, meta)
    history_path(page_env).write_text("epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds\n"
                                      "1,0.1,1.5,0.5,1.2,0.6,9\n2,0.01,1.0,0.7,0.9,0.7,9\n")
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    notes = [c.value for c in at.caption if "validation split" in c.value]
    expected = ("The curves show the training batches and the validation split (5,000 images held out "
                "of the training set, seed 0), never the test set. Epoch 2 of 2 was kept for its validation "
                "accuracy; the test set was evaluated once, at the end (87.50%).")
    assert notes == [expected]
    _, loss, acc, _ = vega_charts(at)
    assert [r["loss"] for r in loss[1]] == [1.5, 1.0, 1.2, 0.9]
    splits = {r["split"] for r in acc[1]}
    assert "validation: unaltered images,\neval mode, after the epoch" in splits
    assert not any(s.startswith("test") for s in splits)
