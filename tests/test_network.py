import torch
from torch import nn

from model.network import ARCHITECTURE, CIFAR10_CLASSES, build_model, count_parameters
from model.train import augment, train_step


def test_block_shapes_for_a_cifar_batch():
    """The lecture's N×C×H×W exercise: a batch of 32 CIFAR-10 images through each block."""
    model = build_model().eval()
    x = torch.randn(32, 3, 32, 32)
    expected = {"block1": (32, 32, 16, 16), "block2": (32, 64, 8, 8), "block3": (32, 128, 4, 4)}
    for name, shape in expected.items():
        x = getattr(model, name)(x)
        assert tuple(x.shape) == shape, name
    assert tuple(model(torch.randn(32, 3, 32, 32)).shape) == (32, 10)


def test_layout_follows_the_lecture():
    model = build_model()
    names = dict(model.named_modules())
    convs = {n: m for n, m in names.items() if isinstance(m, nn.Conv2d)}
    assert [n for n in convs] == [
        "block1.conv1", "block1.conv2",
        "block2.conv1", "block2.conv2", "block2.conv3",
        "block3.conv1", "block3.conv2", "block3.conv3",
    ]
    assert convs["block2.conv3"].kernel_size == (1, 1)
    assert convs["block3.conv3"].kernel_size == (1, 1)
    assert convs["block3.conv2"].kernel_size == (3, 3)
    assert isinstance(names["block1.pool"], nn.MaxPool2d)
    assert isinstance(names["classifier"], nn.Linear) and names["classifier"].in_features == 128
    assert count_parameters(model) <= 1_000_000
    assert ARCHITECTURE == "lecture-cnn-v1"


def test_class_order_is_the_official_one():
    assert CIFAR10_CLASSES == ("airplane", "automobile", "bird", "cat", "deer",
                               "dog", "frog", "horse", "ship", "truck")


def test_one_training_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_model()
    x, y = torch.randn(16, 3, 32, 32), torch.randint(0, 10, (16,))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    crit = nn.CrossEntropyLoss()
    before, _ = train_step(model, opt, crit, x, y)
    model.eval()
    with torch.no_grad():
        after_eval = float(crit(model(x), y))
    model.train()
    after, _ = train_step(model, opt, crit, x, y)
    assert after < before
    assert after_eval == after_eval  # finite


def test_augment_is_a_padded_shift_and_optional_flip():
    gen = torch.Generator().manual_seed(1)
    batch = torch.arange(64 * 3 * 8 * 8, dtype=torch.float32).view(64, 3, 8, 8) + 1
    out = augment(batch, gen, padding=2)
    assert out.shape == batch.shape
    for i in range(64):
        img, src = out[i], batch[i]
        # Every non-zero value of the output comes from the same image, rows stay rows.
        nz = img[img != 0]
        assert set(nz.tolist()) <= set(src.flatten().tolist())
        # Some 4×4 centre block is always an exact (possibly mirrored) window of the source.
        centre = img[:, 2:6, 2:6]
        found = any(
            torch.equal(centre, cand[:, r:r + 4, c:c + 4])
            for cand in (src, src.flip(-1)) for r in range(5) for c in range(5)
        )
        assert found
    assert not torch.equal(out, batch)
