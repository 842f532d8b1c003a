"""INR editing: targets bit-exact against the reference's OpenCV targets, the INR-output editor's
symmetry, both outputs end to end, and the errors."""

import json

import pytest
import torch

from dng.data.datasets import normalize_images
from dng.edit import STYLES, stylize
from dng.errors import ConfigError, DNGError

from conftest import random_hidden_perms, random_mlp


@pytest.mark.parametrize("style", STYLES)
def test_targets_match_the_reference_bit_for_bit(editing_fixtures, style):
    d = torch.load(editing_fixtures / "stylize_targets_mnist.pt", weights_only=True)
    out = stylize(d["images_uint8"][:, None], style)
    assert torch.equal(out[:, 0], d["targets_uint8"][style])
    assert torch.equal(normalize_images(out), d["targets_normalized"][style])


def test_windows_follow_opencv_anchors():
    """A bright pixel spreads over the 3×3 square (dilate) and down-right (2×2 gradient); a dark
    one spreads down-right under the 2×2 erosion (FORMAT.md's worked examples)."""
    x = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    x[0, 0, 2, 2] = 255
    lit = lambda t: sorted(map(tuple, (t[0, 0] == 255).nonzero().tolist()))  # noqa: E731
    assert lit(stylize(x, "dilate")) == [(i, j) for i in (1, 2, 3) for j in (1, 2, 3)]
    assert lit(stylize(x, "gradient")) == [(2, 2), (2, 3), (3, 2), (3, 3)]
    dark = 255 - x
    assert sorted(map(tuple, (stylize(dark, "erode")[0, 0] == 0).nonzero().tolist())) == \
        [(2, 2), (2, 3), (3, 2), (3, 3)]
    flat = torch.full((1, 1, 4, 4), 7, dtype=torch.uint8)
    assert torch.equal(stylize(flat, "erode"), flat) and not stylize(flat, "gradient").any()


def test_unknown_style_and_bad_images():
    with pytest.raises(ConfigError, match="unknown style"):
        stylize(torch.zeros(1, 1, 2, 2, dtype=torch.uint8), "blur")
    with pytest.raises(ConfigError, match="uint8"):
        stylize(torch.zeros(1, 1, 2, 2), "dilate")


@pytest.mark.parametrize("editor", ["inr-editor", "nfn-editor"])
def test_editors_are_equivariant_to_hidden_permutations(editor):
    from dng.models import create

    if editor == "nfn-editor":
        pytest.importorskip("nfn", reason="the NFN editor needs the baselines extra")
    torch.manual_seed(0)
    sizes = (2, 6, 5, 1)
    kw = dict(emb_dim=8, fourier_dim=4, probes=5) if editor == "inr-editor" else \
        dict(fourier_dim=4)
    m = create(editor, sizes, image_shape=(1, 4, 4), hidden=8, **kw).double()
    with torch.no_grad():
        m.scale.fill_(0.5)  # a real edit, not the identity of the start
    w = random_mlp(sizes, batch=3, dtype=torch.float64)
    perms = random_hidden_perms(sizes, 3)
    a = m.edited_weights(w.permute_hidden(perms))
    b = m.edited_weights(w).permute_hidden(perms)
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        torch.testing.assert_close(x, y, atol=1e-10, rtol=0)
    assert not torch.allclose(m.edited_weights(w).weights[1], w.weights[1])


@pytest.mark.parametrize("output", ["inr", "image"])
def test_both_outputs_train_evaluate_and_write(separable_zoo, tmp_path, output):
    from dng.cli import main

    run = tmp_path / "run"
    main(["train", "--zoo", str(separable_zoo), "--task", "edit", "--style", "dilate",
          "--output", output, "--model", "inr2jls", "--out", str(run), "--steps", "4",
          "--eval-every", "2", "--emb-dim", "8", "--fourier-dim", "4", "--latent-dim", "8",
          "--hidden", "8", "--probes", "0"])
    main(["eval", str(run)])
    m = json.loads((run / "metrics.json").read_text())
    assert m["task"] == {"task": "edit", "style": "dilate"}
    assert m["test_mse01"] == pytest.approx(m["test_mse"] / 4) and (run / "edits.png").is_file()
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["model"] == ("inr-editor" if output == "inr" else "inr2jls")
    if output == "inr":
        main(["edit", str(run), "--zoo", str(separable_zoo), "--out", str(tmp_path / "edited")])
        main(["zoo", "show", str(tmp_path / "edited")])
        assert (tmp_path / "edited" / "show.png").is_file()
    else:
        from dng.edit import edit_zoo

        with pytest.raises(DNGError, match="outputs images"):
            edit_zoo(run, separable_zoo, tmp_path / "e")
        assert not (tmp_path / "e").exists()


def test_editing_needs_images(cnn_fixtures, tmp_path, capsys):
    from dng.cli import main

    main(["zoo", "import", "--format", "smallcnnzoo",
          str(cnn_fixtures / "smallcnnzoo_layout"), "--out", str(tmp_path / "z")])
    assert main(["train", "--zoo", str(tmp_path / "z"), "--task", "edit", "--output", "inr",
                 "--out", str(tmp_path / "r"), "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs the networks' images" in err[0]
    assert not (tmp_path / "r").exists()
